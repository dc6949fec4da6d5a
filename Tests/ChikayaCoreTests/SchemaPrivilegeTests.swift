import Foundation
import Postgres
import Testing
import TestSupport
@testable import ChikayaCore

/// The migrated schema's privileges are exactly `PrivilegeMatrix`: every table, view and function
/// has a decision, belongs to chikaya_owner, and no role (PUBLIC included) holds more.
@Suite(.enabled(if: TestDatabase.available, "needs DATABASE_URL (run through scripts/test)"))
struct SchemaPrivilegeIntegrationTests {
    static let roles = ["intake", "worker", "notifier", "staff", "admin", "readonly"]

    func migrated(_ label: String) throws -> (TestDatabase, PostgresConnection) {
        let database = try TestDatabase(label)
        let db = try database.connect()
        _ = try MigrationRunner(connection: db).run()
        return (database, db)
    }

    /// "SELECT UPDATE(a,b)" as "table|role|SELECT|", "table|role|UPDATE|a", "table|role|UPDATE|b".
    static func expand(_ object: String, _ role: String, _ privileges: String) -> Set<String> {
        var out: Set<String> = []
        for token in privileges.split(separator: " ") {
            if let open = token.firstIndex(of: "(") {
                let privilege = token[..<open]
                for column in token[token.index(after: open)...].dropLast().split(separator: ",") {
                    out.insert("\(object)|\(role)|\(privilege)|\(column)")
                }
            } else {
                out.insert("\(object)|\(role)|\(token)|")
            }
        }
        return out
    }

    @Test("every table and view has a privilege decision, and the grants are exactly it")
    func relationGrantsMatchTheMatrix() throws {
        let (database, db) = try migrated("privrel")
        defer { database.drop() }
        let relations = try db.query("""
            SELECT c.relname, c.relrowsecurity, pg_get_userbyid(c.relowner) FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            ORDER BY 1
            """).rows.map { (try $0.decode(0, as: String.self), try $0.decode(1, as: Bool.self), try $0.decode(2, as: String.self)) }
        let undecided = relations.map(\.0).filter { PrivilegeMatrix.relations[$0] == nil }
        #expect(undecided.isEmpty, """
            no privilege decision for \(undecided.joined(separator: ", ")): grant what each role needs in the same \
            migration and add it to Tests/ChikayaCoreTests/PrivilegeMatrix.swift (docs/security.md)
            """)
        let stale = Set(PrivilegeMatrix.relations.keys).subtracting(relations.map(\.0))
        #expect(stale.isEmpty, "PrivilegeMatrix lists relations the schema does not have: \(stale.sorted())")
        for (name, rls, owner) in relations {
            #expect(owner == "chikaya_owner", "\(name) belongs to \(owner), not chikaya_owner")
            if let decision = PrivilegeMatrix.relations[name] {
                #expect(rls == decision.rls, "\(name): row-level security is \(rls ? "on" : "off"), the matrix says \(decision.rls ? "on" : "off")")
            }
        }

        let granted = try db.query("""
            WITH objects AS (
                SELECT c.oid, c.relname, c.relacl, c.relowner FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            )
            SELECT o.relname, coalesce(r.rolname, 'PUBLIC'), x.privilege_type, ''
            FROM objects o CROSS JOIN LATERAL aclexplode(o.relacl) x LEFT JOIN pg_roles r ON r.oid = x.grantee
            WHERE x.grantee <> o.relowner
            UNION ALL
            SELECT o.relname, coalesce(r.rolname, 'PUBLIC'), x.privilege_type, a.attname
            -- System columns too (a grant of ctid is one).
            FROM objects o JOIN pg_attribute a ON a.attrelid = o.oid AND NOT a.attisdropped
            CROSS JOIN LATERAL aclexplode(a.attacl) x LEFT JOIN pg_roles r ON r.oid = x.grantee
            WHERE x.grantee <> o.relowner
            """).rows.map { row in
                let role = try row.decode(1, as: String.self)
                let short = role.hasPrefix("chikaya_") ? String(role.dropFirst("chikaya_".count)) : role
                return "\(try row.decode(0, as: String.self))|\(short)|\(try row.decode(2, as: String.self))|\(try row.decode(3, as: String.self))"
            }
        var expected: Set<String> = []
        for (object, decision) in PrivilegeMatrix.relations {
            for (role, privileges) in decision.grants { expected.formUnion(Self.expand(object, role, privileges)) }
        }
        let actual = Set(granted)
        let extra = actual.subtracting(expected).filter { PrivilegeMatrix.relations[String($0.prefix(while: { $0 != "|" }))] != nil }
        let missing = expected.subtracting(actual)
        #expect(extra.isEmpty, "granted but not in PrivilegeMatrix (table|role|privilege|column): \(extra.sorted())")
        #expect(missing.isEmpty, "in PrivilegeMatrix but not granted (table|role|privilege|column): \(missing.sorted())")
    }

    @Test("every function has a privilege decision; PUBLIC executes none; SECURITY DEFINER ones pin search_path")
    func functionGrantsMatchTheMatrix() throws {
        let (database, db) = try migrated("privfn")
        defer { database.drop() }
        let functions = try db.query("""
            SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner), p.prosecdef,
                   coalesce(array_to_string(p.proconfig, ' '), ''),
                   coalesce((SELECT string_agg(coalesce(r.rolname, 'PUBLIC'), ' ' ORDER BY 1)
                             FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                             LEFT JOIN pg_roles r ON r.oid = x.grantee
                             WHERE x.grantee <> p.proowner), '')
            FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 1
            """).rows.map { row in
                (name: try row.decode(0, as: String.self), owner: try row.decode(1, as: String.self),
                 definer: try row.decode(2, as: Bool.self), config: try row.decode(3, as: String.self),
                 grantees: try row.decode(4, as: String.self))
            }
        let undecided = functions.map(\.name).filter { PrivilegeMatrix.functions[$0] == nil }
        #expect(undecided.isEmpty, """
            no privilege decision for \(undecided.joined(separator: ", ")): grant EXECUTE to the roles that call it (or none) \
            and add it to Tests/ChikayaCoreTests/PrivilegeMatrix.swift (docs/security.md)
            """)
        let stale = Set(PrivilegeMatrix.functions.keys).subtracting(functions.map(\.name))
        #expect(stale.isEmpty, "PrivilegeMatrix lists functions the schema does not have: \(stale.sorted())")
        for function in functions {
            #expect(function.owner == "chikaya_owner", "\(function.name) belongs to \(function.owner)")
            if function.definer {
                #expect(function.config.contains("search_path="), "\(function.name) is SECURITY DEFINER without a pinned search_path")
            }
            guard let roles = PrivilegeMatrix.functions[function.name] else { continue }
            let actual = function.grantees.split(separator: " ").map { $0.hasPrefix("chikaya_") ? String($0.dropFirst(8)) : String($0) }
            #expect(actual.sorted() == roles.sorted(), "\(function.name): EXECUTE held by \(actual), the matrix says \(roles)")
        }
    }

    @Test("the group roles exist, cannot log in and bypass nothing; the schema is closed to PUBLIC")
    func rolesAreGroupsWithoutPowers() throws {
        let (database, db) = try migrated("privroles")
        defer { database.drop() }
        let roles = try db.query("""
            SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb
            FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname
            """, ["{" + SecuritySchema.roles.joined(separator: ",") + "}"]).rows
        #expect(roles.count == SecuritySchema.roles.count)
        for row in roles {
            let name: String = try row.decode(0)
            for column in 1...5 { #expect(try row.decode(column, as: Bool.self) == false, "\(name): column \(column)") }
        }
        let publicCreate: Bool = try db.query("SELECT has_schema_privilege('public', current_schema(), 'CREATE')").single().decode(0)
        let publicUsage: Bool = try db.query("""
            SELECT EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) x
                           WHERE n.nspname = current_schema() AND x.grantee = 0)
            """).single().decode(0)
        #expect(!publicCreate)
        #expect(!publicUsage, "PUBLIC keeps no privilege on the schema")
    }
}
