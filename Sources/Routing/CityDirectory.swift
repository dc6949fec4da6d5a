/// The city's fixed directory: department and arrondissement codes with their names.
///
/// Copied from the city's reference lists (departments.tsv, arrondissements.tsv) so that the
/// program never reads them at run time. Every other part of the product uses these codes.
public enum CityDirectory {
    /// A municipal department that receives complaints.
    public struct Department: Sendable, Hashable {
        public let code: String
        public let nameFR: String
        public let nameAR: String
        /// What the department handles, in plain words (from the city's list).
        public let scope: String
    }

    /// One of the city's arrondissements (districts).
    public struct Arrondissement: Sendable, Hashable {
        public let code: String
        public let nameFR: String
        public let nameAR: String
    }

    /// The department that receives what no rule decides.
    public static let triageCode = "triage"

    public static let departments: [Department] = [
        Department(code: "proprete", nameFR: "Propreté et collecte des déchets", nameAR: "النظافة وجمع النفايات",
                   scope: "household waste not collected, overflowing or missing bins, illegal dumping, rubble, street sweeping, dead animals on the street, bad smell from garbage"),
        Department(code: "eclairage", nameFR: "Éclairage public", nameAR: "الإنارة العمومية",
                   scope: "street lamps off or blinking, dark streets, broken or fallen lamp posts, lamps on in daytime, exposed cables of public lighting"),
        Department(code: "voirie", nameFR: "Voirie et chaussée", nameAR: "الطرق والأرصفة",
                   scope: "potholes, damaged road surface, broken or blocked sidewalks, missing manhole covers on roads, speed bumps, unfinished roadworks, road flooding caused by road damage"),
        Department(code: "eau-assainissement", nameFR: "Eau, assainissement et électricité (SRM)", nameAR: "الماء والتطهير السائل والكهرباء",
                   scope: "water cuts, leaks, low pressure, dirty tap water, sewer overflow, blocked drains, sewage smell, household electricity cuts and meters, water and electricity bills"),
        Department(code: "espaces-verts", nameFR: "Espaces verts et parcs", nameAR: "المساحات الخضراء والحدائق",
                   scope: "parks and gardens neglected, trees to prune or fallen, dangerous branches, dry lawns, broken playground equipment in parks, watering"),
        Department(code: "transport", nameFR: "Transport et mobilité", nameAR: "النقل والتنقل",
                   scope: "tramway, busway, city buses, bus stops and shelters, drivers' behaviour, schedules and crowding, taxis"),
        Department(code: "circulation", nameFR: "Circulation, signalisation et stationnement", nameAR: "السير والجولان والوقوف",
                   scope: "traffic lights out of order, missing or damaged road signs and markings, parking, tow-away, illegal parking on sidewalks, traffic jams caused by organisation"),
        Department(code: "hygiene", nameFR: "Bureau municipal d'hygiène", nameAR: "المكتب الجماعي لحفظ الصحة",
                   scope: "food safety in restaurants, shops and markets, stray dogs and cats, rats, cockroaches, mosquitoes, disinfection, unhealthy housing"),
        Department(code: "police-administrative", nameFR: "Police administrative", nameAR: "الشرطة الإدارية",
                   scope: "occupation of public space by cafés, shops and street vendors, noise from businesses or parties, unlicensed activities, abandoned vehicles, illegal advertising"),
        Department(code: "urbanisme", nameFR: "Urbanisme et constructions", nameAR: "التعمير والبناء",
                   scope: "illegal construction or extra floors, building permits, buildings threatening to collapse, construction sites blocking or endangering the street"),
        Department(code: "etat-civil", nameFR: "État civil et services administratifs", nameAR: "الحالة المدنية والخدمات الإدارية",
                   scope: "birth, marriage and death certificates, legalisation of signatures, certified copies, waiting times, staff behaviour at the arrondissement office"),
        Department(code: "triage", nameFR: "Cellule de tri", nameAR: "خلية الفرز",
                   scope: "anything that matches no department or is ambiguous between several: reviewed and routed by a person"),
    ]

    public static let arrondissements: [Arrondissement] = [
        Arrondissement(code: "ain-chock", nameFR: "Aïn Chock", nameAR: "عين الشق"),
        Arrondissement(code: "ain-sebaa", nameFR: "Aïn Sebaâ", nameAR: "عين السبع"),
        Arrondissement(code: "al-fida", nameFR: "Al Fida", nameAR: "الفداء"),
        Arrondissement(code: "anfa", nameFR: "Anfa", nameAR: "أنفا"),
        Arrondissement(code: "ben-msick", nameFR: "Ben M'Sick", nameAR: "بن مسيك"),
        Arrondissement(code: "sbata", nameFR: "Sbata", nameAR: "سباتة"),
        Arrondissement(code: "hay-hassani", nameFR: "Hay Hassani", nameAR: "الحي الحسني"),
        Arrondissement(code: "hay-mohammadi", nameFR: "Hay Mohammadi", nameAR: "الحي المحمدي"),
        Arrondissement(code: "maarif", nameFR: "Maârif", nameAR: "المعاريف"),
        Arrondissement(code: "mechouar", nameFR: "Mechouar", nameAR: "المشور"),
        Arrondissement(code: "moulay-rachid", nameFR: "Moulay Rachid", nameAR: "مولاي رشيد"),
        Arrondissement(code: "sidi-othmane", nameFR: "Sidi Othmane", nameAR: "سيدي عثمان"),
        Arrondissement(code: "roches-noires", nameFR: "Roches Noires", nameAR: "الصخور السوداء"),
        Arrondissement(code: "sidi-belyout", nameFR: "Sidi Belyout", nameAR: "سيدي بليوط"),
        Arrondissement(code: "sidi-bernoussi", nameFR: "Sidi Bernoussi", nameAR: "سيدي البرنوصي"),
        Arrondissement(code: "sidi-moumen", nameFR: "Sidi Moumen", nameAR: "سيدي مومن"),
    ]

    public static let departmentCodes: Set<String> = Set(departments.map(\.code))
    public static let arrondissementCodes: Set<String> = Set(arrondissements.map(\.code))

    public static func department(_ code: String) -> Department? {
        departments.first { $0.code == code }
    }

    public static func arrondissement(_ code: String) -> Arrondissement? {
        arrondissements.first { $0.code == code }
    }

    /// The arrondissement as one bit of a 32-bit set: `1 << its index in arrondissements`; 0
    /// for nil or an unknown code. A rule's `@` restriction is such a set, and so is the
    /// arrondissement that `Classifier.decide(utf8:arrondissementBit:workspace:)` takes.
    public static func arrondissementBit(_ code: String?) -> UInt32 {
        guard let code else { return 0 }
        return arrondissementBits[code] ?? 0
    }

    /// As `arrondissementBit(_:)` for a code given as UTF-8 bytes (a batch's field, a database
    /// value read in place), without making a String.
    public static func arrondissementBit(utf8 code: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard let i = index(of: code, in: arrondissementCodeBytes) else { return 0 }
        return 1 << UInt32(i)
    }

    /// The index in `departments` of the department whose code is these UTF-8 bytes, if any.
    public static func departmentIndex(utf8 code: UnsafeBufferPointer<UInt8>) -> Int? {
        index(of: code, in: departmentCodeBytes)
    }

    private static let arrondissementCodeBytes = arrondissements.map { Array($0.code.utf8) }
    private static let departmentCodeBytes = departments.map { Array($0.code.utf8) }

    private static func index(of code: UnsafeBufferPointer<UInt8>, in codes: [[UInt8]]) -> Int? {
        for (i, candidate) in codes.enumerated() where candidate.count == code.count && candidate.elementsEqual(code) {
            return i
        }
        return nil
    }

    /// The codes of the arrondissements in a set made of `arrondissementBit`s, in directory order.
    public static func arrondissementCodes(in set: UInt32) -> [String] {
        arrondissements.indices.filter { set & (1 << UInt32($0)) != 0 }.map { arrondissements[$0].code }
    }

    private static let arrondissementBits: [String: UInt32] = {
        precondition(arrondissements.count <= 32, "an arrondissement set is 32 bits")
        var bits: [String: UInt32] = [:]
        for (i, area) in arrondissements.enumerated() { bits[area.code] = 1 << UInt32(i) }
        return bits
    }()
}
