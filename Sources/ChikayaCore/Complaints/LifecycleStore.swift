import Foundation
import Postgres

/// Why a status change or reassignment did not happen, in words staff can act on.
public enum LifecycleError: Error, CustomStringConvertible, Sendable {
    /// No complaint has this reference.
    case unknownReference(String)
    /// No department has this code.
    case unknownDepartment(String)
    /// The complaint already has the department a reassignment asked for.
    case sameDepartment(reference: String, department: String)
    /// The database's transition check refused the move; its message and hint, as written there.
    case refused(message: String, hint: String?)
    /// Any other database failure.
    case database(PostgresError)

    public var description: String {
        switch self {
        case .unknownReference(let reference): "no complaint has the reference \(reference)"
        case .unknownDepartment(let code): "no department has the code '\(code)'"
        case .sameDepartment(let reference, let department): "complaint \(reference) is already with \(department)"
        case .refused(let message, let hint): hint.map { "\(message) (\($0))" } ?? message
        case .database(let error): "\(error)"
        }
    }
}

/// What one change did: the move, the event it wrote and how many citizen emails it queued.
public struct LifecycleChange: Sendable {
    public let reference: String
    public let fromStatus: String
    public let toStatus: String
    public let fromDepartment: String?
    public let toDepartment: String?
    /// The event the trigger wrote; nil when nothing changed (the complaint was already there).
    public let eventID: Int64?
    /// Who the database recorded as acting (`chikaya_actor()`); nil when nothing changed.
    public let actor: String?
    public let notifications: Int
}

/// All SQL that moves a complaint through its lifecycle.
///
/// The rules live in the database (`complaints_check_transition`, `complaints_record_changes`), so
/// that another system's plain `UPDATE` obeys them too; this store only says why (the
/// transaction-local `chikaya.note`, read by the triggers) and makes the update. Who acted is the
/// database's to record (`chikaya_actor()`: the login), never the client's.
public enum LifecycleStore {
    /// Moves the complaint to `status`. Moving to the status it already has changes nothing.
    /// A complaint the login may not handle (row-level security) is an unknown reference.
    public static func setStatus(reference: String, to status: String, note: String?,
                                 on db: PostgresConnection) throws(LifecycleError) -> LifecycleChange {
        try change(reference: reference, note: note, on: db, sql: """
            WITH old AS (
                SELECT id, status, department FROM complaints WHERE reference = $1 FOR UPDATE
            )
            UPDATE complaints c SET status = $2
            FROM old WHERE c.id = old.id
            RETURNING c.id AS complaint_id, old.status AS old_status, c.status AS new_status,
                      old.department AS old_department, c.department AS new_department
            """, parameters: [reference, status])
    }

    /// Gives the complaint to another department, keeping its status, through
    /// `complaint_reassign` (staff may move a complaint out of their own reach, which a plain
    /// UPDATE under row-level security cannot do).
    public static func reassign(reference: String, to department: String, note: String,
                                on db: PostgresConnection) throws(LifecycleError) -> LifecycleChange {
        let known: Bool
        do {
            known = try db.query("SELECT EXISTS (SELECT 1 FROM departments WHERE code = $1)", [department])
                .single().decode(0)
        } catch {
            throw .database(error)
        }
        guard known else { throw .unknownDepartment(department) }
        let change = try change(reference: reference, note: note, on: db, sql: """
            SELECT complaint_id, old_status, new_status, old_department, new_department,
                   event_id, actor, citizen_notifications
            FROM complaint_reassign($1, $2)
            """, parameters: [reference, department])
        if change.eventID == nil {
            throw .sameDepartment(reference: reference, department: department)
        }
        return change
    }

    private static func change(reference: String, note: String?, on db: PostgresConnection,
                               sql: String, parameters: [(any PostgresBindable)?]) throws(LifecycleError) -> LifecycleChange {
        do {
            return try db.transaction { db in
                try AuditTrail.describe(note: note, on: db)
                let updated = try db.query(sql, parameters)
                guard updated.count > 0 else { throw LifecycleError.unknownReference(reference) }
                let row = updated[0]
                let id: Int64 = try row.decode("complaint_id")
                let from: String = try row.decode("old_status"), to: String = try row.decode("new_status")
                let fromDepartment: String? = try row.decode("old_department")
                let toDepartment: String? = try row.decode("new_department")
                guard from != to || fromDepartment != toDepartment else {
                    return LifecycleChange(reference: reference, fromStatus: from, toStatus: to,
                                           fromDepartment: fromDepartment, toDepartment: toDepartment,
                                           eventID: nil, actor: nil, notifications: 0)
                }
                // complaint_reassign reports its event itself: the complaint may now be out of the
                // caller's sight, and its events with it.
                if updated.columnCount >= 8 {
                    return LifecycleChange(reference: reference, fromStatus: from, toStatus: to,
                                           fromDepartment: fromDepartment, toDepartment: toDepartment,
                                           eventID: try row.decode("event_id"), actor: try row.decode("actor"),
                                           notifications: try row.decode("citizen_notifications"))
                }
                // The trigger wrote the newest event of this complaint in this very transaction.
                let event = try db.query("""
                    SELECT e.id AS event_id,
                           (SELECT count(*) FROM notifications n
                            WHERE n.event_id = e.id AND n.recipient_kind = 'citizen') AS citizen_notifications,
                           e.actor
                    FROM complaint_events e WHERE e.complaint_id = $1 ORDER BY e.id DESC LIMIT 1
                    """, [id]).single()
                return LifecycleChange(reference: reference, fromStatus: from, toStatus: to,
                                       fromDepartment: fromDepartment, toDepartment: toDepartment,
                                       eventID: try event.decode("event_id"), actor: try event.decode("actor"),
                                       notifications: try event.decode("citizen_notifications"))
            }
        } catch let error as LifecycleError {
            throw error
        } catch let error as PostgresError {
            // 23514 check_violation: the transition trigger (or the status CHECK) said no.
            if error.sqlState == SQLState.checkViolation { throw .refused(message: error.message, hint: error.hint) }
            throw .database(error)
        } catch {
            throw .database(PostgresError(code: .server, message: "\(error)"))
        }
    }
}
