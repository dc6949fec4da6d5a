/// Migration 1: the intake contract, the tables the phone app's back end writes to.
///
/// A plain `INSERT INTO complaints` is the whole enqueue; the routing migration adds the trigger
/// that puts each new complaint on the routing queue and wakes the workers. The departments and
/// arrondissements are written out as literals (the city's lists as of this migration), not
/// built from `CityDirectory`: an applied migration's text must never change, so a later change
/// to the lists is a new migration.
enum IntakeSchema {
    static let migration = Migration(version: 1, name: "intake", sql: sql, asOwner: false)

    private static let sql = """
    CREATE TABLE departments (
        code text PRIMARY KEY,
        name_fr text NOT NULL,
        name_ar text NOT NULL
    );

    CREATE TABLE arrondissements (
        code text PRIMARY KEY,
        name_fr text NOT NULL,
        name_ar text NOT NULL
    );

    INSERT INTO departments (code, name_fr, name_ar) VALUES
        ('proprete', 'Propreté et collecte des déchets', 'النظافة وجمع النفايات'),
        ('eclairage', 'Éclairage public', 'الإنارة العمومية'),
        ('voirie', 'Voirie et chaussée', 'الطرق والأرصفة'),
        ('eau-assainissement', 'Eau, assainissement et électricité (SRM)', 'الماء والتطهير السائل والكهرباء'),
        ('espaces-verts', 'Espaces verts et parcs', 'المساحات الخضراء والحدائق'),
        ('transport', 'Transport et mobilité', 'النقل والتنقل'),
        ('circulation', 'Circulation, signalisation et stationnement', 'السير والجولان والوقوف'),
        ('hygiene', 'Bureau municipal d''hygiène', 'المكتب الجماعي لحفظ الصحة'),
        ('police-administrative', 'Police administrative', 'الشرطة الإدارية'),
        ('urbanisme', 'Urbanisme et constructions', 'التعمير والبناء'),
        ('etat-civil', 'État civil et services administratifs', 'الحالة المدنية والخدمات الإدارية'),
        ('triage', 'Cellule de tri', 'خلية الفرز');
    INSERT INTO arrondissements (code, name_fr, name_ar) VALUES
        ('ain-chock', 'Aïn Chock', 'عين الشق'),
        ('ain-sebaa', 'Aïn Sebaâ', 'عين السبع'),
        ('al-fida', 'Al Fida', 'الفداء'),
        ('anfa', 'Anfa', 'أنفا'),
        ('ben-msick', 'Ben M''Sick', 'بن مسيك'),
        ('sbata', 'Sbata', 'سباتة'),
        ('hay-hassani', 'Hay Hassani', 'الحي الحسني'),
        ('hay-mohammadi', 'Hay Mohammadi', 'الحي المحمدي'),
        ('maarif', 'Maârif', 'المعاريف'),
        ('mechouar', 'Mechouar', 'المشور'),
        ('moulay-rachid', 'Moulay Rachid', 'مولاي رشيد'),
        ('sidi-othmane', 'Sidi Othmane', 'سيدي عثمان'),
        ('roches-noires', 'Roches Noires', 'الصخور السوداء'),
        ('sidi-belyout', 'Sidi Belyout', 'سيدي بليوط'),
        ('sidi-bernoussi', 'Sidi Bernoussi', 'سيدي البرنوصي'),
        ('sidi-moumen', 'Sidi Moumen', 'سيدي مومن');

    CREATE TABLE complaints (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        reference text UNIQUE,
        submitted_at timestamptz NOT NULL DEFAULT now(),
        body text NOT NULL
            CONSTRAINT complaints_body_length CHECK (char_length(body) BETWEEN 1 AND 10000 AND btrim(body) <> ''),
        language text CONSTRAINT complaints_language CHECK (language IN ('ar', 'fr')),
        arrondissement text REFERENCES arrondissements (code),
        anonymous boolean NOT NULL DEFAULT false,
        citizen_name text,
        citizen_email text,
        citizen_phone text,
        notify_language text CONSTRAINT complaints_notify_language CHECK (notify_language IN ('ar', 'fr')),
        status text NOT NULL DEFAULT 'received'
            CONSTRAINT complaints_status CHECK (status IN ('received', 'assigned', 'in_progress', 'resolved', 'rejected')),
        department text REFERENCES departments (code),
        CONSTRAINT complaints_anonymous_has_no_personal_data CHECK (
            NOT anonymous OR (citizen_name IS NULL AND citizen_email IS NULL AND citizen_phone IS NULL))
    );

    CREATE INDEX complaints_department_status ON complaints (department, status);
    CREATE INDEX complaints_submitted_at ON complaints (submitted_at);

    -- The reference is made by the database from the id, so the app never invents one:
    -- CC-<year in Casablanca>-<id on at least six digits>.
    CREATE FUNCTION complaints_set_reference() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.reference := 'CC-' || to_char(NEW.submitted_at AT TIME ZONE 'Africa/Casablanca', 'YYYY') || '-'
            || lpad(NEW.id::text, greatest(6, length(NEW.id::text)), '0');
        RETURN NEW;
    END $$;

    CREATE TRIGGER complaints_reference BEFORE INSERT ON complaints
        FOR EACH ROW EXECUTE FUNCTION complaints_set_reference();

    CREATE TABLE attachments (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        complaint_id bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
        file_name text NOT NULL,
        content_type text NOT NULL,
        byte_size bigint NOT NULL CHECK (byte_size >= 0),
        storage_key text NOT NULL
    );

    CREATE INDEX attachments_complaint ON attachments (complaint_id);
    """
}
