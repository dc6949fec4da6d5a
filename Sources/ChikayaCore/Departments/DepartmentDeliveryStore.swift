import Foundation
import Postgres
import Routing

/// What a department email needs beyond the claimed notification. Personal data is only
/// filled in for complaints that are not anonymous (the query itself leaves it out).
public struct DepartmentDelivery: Sendable {
    /// A file of the complaint, named as the citizen sent it and found by its storage key.
    public struct Attachment: Sendable {
        public let fileName: String
        public let storageKey: String
    }
    public let reference: String
    public let departmentCode: String
    public let departmentNameFR: String
    public let departmentNameAR: String
    public let arrondissementFR: String?
    public let arrondissementAR: String?
    public let submittedAt: Date
    public let body: String
    public let anonymous: Bool
    public let citizenName: String?
    public let citizenEmail: String?
    public let citizenPhone: String?
    public let replyTo: String?
    /// The previous department when this delivery is a reassignment.
    public let fromDepartment: String?
    public let note: String?
    public let confidence: Double?
    /// Terms that counted for this department in the routing decision, in order, without repeats.
    public let matchedTerms: [String]
    public let attachments: [Attachment]
    /// The earlier open complaint this one probably repeats (its reference), and how alike.
    public var duplicateOf: String? = nil
    public var duplicateSimilarity: Double? = nil
}

/// The details of an office's email about one complaint: the complaint, its department and
/// arrondissement, why it was routed there, its attachments, and the citizen's contact when the
/// complaint is not anonymous.
public enum DepartmentDeliveryStore {
    /// The details of a claimed department notification.
    public static func delivery(notificationID: Int64, on db: PostgresConnection) throws(PostgresError) -> DepartmentDelivery? {
        let result = try db.query("""
            SELECT c.reference, d.code AS department, d.name_fr AS department_fr, d.name_ar AS department_ar,
                   a.name_fr AS arrondissement_fr, a.name_ar AS arrondissement_ar, c.submitted_at, c.body, c.anonymous,
                   CASE WHEN c.anonymous THEN NULL ELSE c.citizen_name END AS citizen_name,
                   CASE WHEN c.anonymous THEN NULL ELSE c.citizen_email END AS citizen_email,
                   CASE WHEN c.anonymous THEN NULL ELSE c.citizen_phone END AS citizen_phone,
                   d.reply_to, CASE WHEN e.from_status = 'received' THEN NULL ELSE e.from_department END AS from_department,
                   coalesce(e.note, cn.body) AS note,
                   r.confidence,
                   r.matches::text AS matches,
                   coalesce((SELECT jsonb_agg(jsonb_build_array(f.file_name, f.storage_key) ORDER BY f.id)
                             FROM attachments f WHERE f.complaint_id = c.id), '[]'::jsonb)::text AS attachments,
                   (SELECT dup.reference FROM complaints dup WHERE dup.id = r.duplicate_of) AS duplicate_of, r.duplicate_similarity
            FROM notifications n
            JOIN complaints c ON c.id = n.complaint_id
            LEFT JOIN complaint_events e ON e.id = n.event_id
            LEFT JOIN complaint_notes cn ON cn.id = n.note_id
            JOIN departments d ON d.code = coalesce(e.to_department, c.department)
            LEFT JOIN arrondissements a ON a.code = c.arrondissement
            LEFT JOIN routing_decisions r ON r.complaint_id = c.id
            WHERE n.id = $1
            """, [notificationID])
        guard let row = result.rows.first else { return nil }
        let departmentCode: String = try row.decode("department")
        let body: String = try row.decode("body")
        let terms = DecisionMatch.countedTexts(DecisionMatch.decode(try row.decode("matches", as: String?.self), text: body),
                                               for: departmentCode)
        let files = (try? JSONDecoder().decode([[String]].self, from: Data(try row.decode("attachments", as: String.self).utf8))) ?? []
        var delivery = DepartmentDelivery(reference: try row.decode("reference"), departmentCode: departmentCode,
                                          departmentNameFR: try row.decode("department_fr"),
                                          departmentNameAR: try row.decode("department_ar"),
                                          arrondissementFR: try row.decode("arrondissement_fr"),
                                          arrondissementAR: try row.decode("arrondissement_ar"),
                                          submittedAt: try row.decode("submitted_at"), body: body,
                                          anonymous: try row.decode("anonymous"),
                                          citizenName: try row.decode("citizen_name"),
                                          citizenEmail: try row.decode("citizen_email"),
                                          citizenPhone: try row.decode("citizen_phone"),
                                          replyTo: try row.decode("reply_to"),
                                          fromDepartment: try row.decode("from_department"),
                                          note: try row.decode("note"), confidence: try row.decode("confidence"),
                                          matchedTerms: terms,
                                          attachments: files.compactMap { $0.count == 2 ? .init(fileName: $0[0], storageKey: $0[1]) : nil })
        delivery.duplicateOf = try row.decode("duplicate_of")
        delivery.duplicateSimilarity = try row.decode("duplicate_similarity")
        return delivery
    }
}
