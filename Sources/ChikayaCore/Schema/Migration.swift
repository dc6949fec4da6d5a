import Foundation

/// One versioned step of the schema. Its SQL is fixed text: once applied somewhere, it must
/// never change (the runner compares checksums and refuses to go on if it did).
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
    /// True: the runner applies it as `chikaya_owner` (SET ROLE), so whoever runs `migrate`
    /// the objects it creates belong to the schema's owner. False only for the migrations
    /// written before that role existed and for the one that creates the roles.
    public let asOwner: Bool

    public init(version: Int, name: String, sql: String, asOwner: Bool = true) {
        self.version = version
        self.name = name
        self.sql = sql
        self.asOwner = asOwner
    }

    /// FNV-1a over the SQL's bytes, as 16 hex digits: enough to notice an edit, no crypto needed.
    public var checksum: String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100000001b3
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// Every migration of the product, in order. Append only.
public enum Migrations {
    public static let all: [Migration] = [
        IntakeSchema.migration,
        RoutingSchema.migration,
        LifecycleSchema.migration,
        DepartmentsSchema.migration,
        RoutingClaimIndexSchema.migration,
        SecuritySchema.migration,
        InboundSchema.migration,
        DuplicatesSchema.migration,
        BatchTriggersSchema.migration,
        InboundNoticesSchema.migration,
        NotificationClaimsSchema.migration,
        RoutingWriteSchema.migration,
        RoutingKeysSchema.migration,
        RoutingNotifySchema.migration,
        RoutingWakeUpSchema.migration,
        ActorLookupSchema.migration,
        RoutingEnqueueSchema.migration,
        StatusChangesPlanSchema.migration,
        NotificationUnansweredIndexSchema.migration,
        OpenComplaintsSchema.migration,
        DepartmentReferenceSchema.migration,
        UnreadEventIndexSchema.migration,
        RoutingRowAddressSchema.migration,
    ]
}
