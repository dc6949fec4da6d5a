import Routing

/// A complaint as the intake receives it, before the database gives it an id and a reference.
public struct NewComplaint: Sendable, Encodable, Equatable {
    public var body: String
    public var language: String?
    public var arrondissement: String?
    public var anonymous: Bool
    public var citizenName: String?
    public var citizenEmail: String?
    public var citizenPhone: String?
    public var notifyLanguage: String?

    public init(body: String, language: String? = nil, arrondissement: String? = nil, anonymous: Bool = false,
                citizenName: String? = nil, citizenEmail: String? = nil, citizenPhone: String? = nil,
                notifyLanguage: String? = nil) {
        self.body = body
        self.language = language
        self.arrondissement = arrondissement
        self.anonymous = anonymous
        self.citizenName = citizenName
        self.citizenEmail = citizenEmail
        self.citizenPhone = citizenPhone
        self.notifyLanguage = notifyLanguage
    }

    enum CodingKeys: String, CodingKey {
        case body, language, arrondissement, anonymous
        case citizenName = "citizen_name"
        case citizenEmail = "citizen_email"
        case citizenPhone = "citizen_phone"
        case notifyLanguage = "notify_language"
    }

    /// The problems the database would refuse, found before anything is written, so that a
    /// file of complaints is checked whole and an error names the line.
    public func problems() -> [String] {
        var found: [String] = []
        let length = body.count
        if body.allSatisfy(\.isWhitespace) { found.append("the complaint text is empty") }
        if length > 10_000 { found.append("the complaint text has \(length) characters; at most 10000") }
        if let language, language != "ar" && language != "fr" { found.append("language '\(language)' is not ar or fr") }
        if let notifyLanguage, notifyLanguage != "ar" && notifyLanguage != "fr" {
            found.append("notify language '\(notifyLanguage)' is not ar or fr")
        }
        if let arrondissement, !CityDirectory.arrondissementCodes.contains(arrondissement) {
            found.append("unknown arrondissement '\(arrondissement)' (known: \(CityDirectory.arrondissements.map(\.code).joined(separator: ", ")))")
        }
        if anonymous && (citizenName != nil || citizenEmail != nil || citizenPhone != nil) {
            found.append("an anonymous complaint cannot carry a name, email or phone")
        }
        return found
    }
}
