/// The privilege decision for every table, view and function of the schema: which role may do
/// what. `SchemaPrivilegeIntegrationTests` compares it with the migrated database both ways, so a migration
/// that adds an object without granting it (or grants more than written here) fails the suite.
/// docs/security.md explains the roles; change both together.
///
/// Privileges are written as in GRANT: `SELECT` for the whole table, `SELECT(a,b)` for columns.
/// Roles are the short names of the group roles (`intake` is `chikaya_intake`). An object with
/// no role is the owner's alone (trigger functions, internal helpers); it must still be listed.
enum PrivilegeMatrix {
    /// Relations (tables, views): row-level security on or off, and the grants per role.
    static let relations: [String: (rls: Bool, grants: [String: String])] = [
        "departments": (false, [
            "intake": "SELECT", "worker": "SELECT", "notifier": "SELECT", "staff": "SELECT", "readonly": "SELECT",
            "admin": "SELECT UPDATE(working_language,reply_to,first_action_days,resolution_days)",
        ]),
        "arrondissements": (false, [
            "intake": "SELECT", "worker": "SELECT", "notifier": "SELECT", "staff": "SELECT", "admin": "SELECT", "readonly": "SELECT",
        ]),
        "complaints": (true, [
            "intake": "INSERT(body,language,arrondissement,anonymous,citizen_name,citizen_email,citizen_phone,notify_language) SELECT(id,reference)",
            "worker": "SELECT(id,reference,submitted_at,body,language,arrondissement,status,department,ctid) UPDATE(status,department)",
            "notifier": "SELECT",
            "staff": "SELECT UPDATE(status,department)",
            "admin": "SELECT(id,reference,submitted_at,body,language,arrondissement,anonymous,status,department)",
            "readonly": "SELECT(id,reference,submitted_at,language,arrondissement,anonymous,status,department)",
        ]),
        "attachments": (true, [
            "intake": "INSERT(complaint_id,file_name,content_type,byte_size,storage_key) SELECT(id,complaint_id)",
            "notifier": "SELECT", "staff": "SELECT",
        ]),
        "routing_queue": (false, [
            "worker": "SELECT UPDATE DELETE", "admin": "SELECT UPDATE",
            "readonly": "SELECT(complaint_id,state,available_at,attempts,leased_by,enqueued_at)",
        ]),
        "rules_publications": (false, [
            "worker": "SELECT", "staff": "SELECT", "readonly": "SELECT",
            "admin": "SELECT INSERT(version,source,file_name,note)",
        ]),
        "routing_decisions": (true, [
            "worker": "SELECT INSERT(complaint_id,department,confidence,runner_up,matches,rules_version,worker_id,text_keys,duplicate_of,duplicate_similarity)",
            "notifier": "SELECT", "staff": "SELECT", "admin": "SELECT",
            "readonly": "SELECT(complaint_id,department,confidence,runner_up,rules_version,decided_at,duplicate_of,duplicate_similarity)",
        ]),
        "complaint_events": (true, [
            "notifier": "SELECT", "staff": "SELECT", "admin": "SELECT",
            "readonly": "SELECT(id,complaint_id,from_status,to_status,from_department,to_department,at)",
        ]),
        "notifications": (true, [
            "notifier": "SELECT UPDATE(status,attempts,next_attempt_at,leased_by,sent_at,message_id,last_reply,last_error,bounce_status,bounce_diagnostic,bounced_at,unanswered_claims)",
            "staff": "SELECT",
            "admin": "SELECT(id,complaint_id,event_id,recipient_kind,template,language,status,attempts,next_attempt_at,leased_by,created_at,sent_at,message_id,last_reply,last_error,notice_id,unanswered_claims)",
            "readonly": "SELECT(id,complaint_id,event_id,recipient_kind,template,language,status,attempts,next_attempt_at,created_at,sent_at,notice_id,unanswered_claims)",
        ]),
        "department_contacts": (false, [
            "admin": "SELECT INSERT UPDATE DELETE", "notifier": "SELECT", "readonly": "SELECT",
        ]),
        "department_contact_changes": (false, ["admin": "SELECT"]),
        "department_deliveries_waiting": (false, ["admin": "SELECT", "readonly": "SELECT"]),
        "open_complaints": (true, [
            "worker": "SELECT", "notifier": "SELECT", "staff": "SELECT", "admin": "SELECT",
            "readonly": "SELECT(complaint_id,arrondissement,department,submitted_at)",
        ]),
        "digests_sent": (false, [
            "notifier": "SELECT INSERT UPDATE DELETE", "admin": "SELECT",
            "readonly": "SELECT(department,office,day,state,complaints,sent_at)",
        ]),
        "late_complaints": (false, ["notifier": "SELECT", "staff": "SELECT", "admin": "SELECT", "readonly": "SELECT"]),
        "staff_assignments": (true, ["admin": "SELECT INSERT DELETE", "staff": "SELECT"]),
        "staff_assignment_changes": (false, ["admin": "SELECT"]),
        "schema_migrations": (false, ["admin": "SELECT", "readonly": "SELECT"]),
        // Inbound mail (migration 7): mail-in runs as a notifier login.
        "address_bounces": (true, ["notifier": "SELECT INSERT"]),
        "suppressed_addresses": (true, [
            "notifier": "SELECT INSERT UPDATE", "readonly": "SELECT(reason,bounce_count,recipient_kind,suppressed_at)",
        ]),
        "complaint_notes": (true, ["notifier": "SELECT", "staff": "SELECT"]),
        "inbound_messages": (true, [
            "notifier": "INSERT(kind,token,complaint_id,notification_id,message_id,outcome,detail)",
            "admin": "SELECT", "readonly": "SELECT(id,received_at,kind,token,outcome)",
        ]),
        // What mail-in writes back to the city (migration 11): answers to offices, bounce alerts.
        "inbound_notices": (true, ["notifier": "SELECT", "admin": "SELECT"]),
    ]

    /// Functions by signature (as `regprocedure` prints it) and the roles that may EXECUTE them.
    static let functions: [String: [String]] = [
        "complaints_set_reference()": [],
        "complaints_enqueue()": [],
        "rules_published()": [],
        "complaints_check_transition()": [],
        "complaints_record_changes()": [],
        "department_contacts_changed()": [],
        "department_contact_for(text,text)": ["notifier", "admin"],
        "department_office_for(text,text)": ["notifier"],
        "complaint_assigned_at(bigint)": ["notifier", "staff", "admin", "readonly"],
        "late_complaints_at(timestamp with time zone)": ["notifier", "staff", "admin", "readonly"],
        "chikaya_session_in(text)": [],
        "chikaya_actor()": [],
        "chikaya_stamp_actor()": [],
        "staff_assignments_changed()": [],
        "chikaya_staff_may_handle(text,text)": ["staff"],
        "complaint_reassign(text,text)": ["staff"],
        "notifications_mark_suppressed()": [],
        "complaints_deleted()": [],
        "open_complaints_deleted()": [],
        "open_complaints_inserted()": [],
        "complaints_check_departments()": [],
        "departments_still_named()": [],
        "complaint_events_deleted()": [],
        "complaints_truncated()": [],
        "inbound_office_command(text,text,text,text,text)": ["notifier"],
        "inbound_citizen_note(text,text,text)": ["notifier"],
        "bounced_offices()": ["notifier", "admin", "readonly"],
        "suppressions_list(integer)": ["admin"],
        "suppression_remove(text)": ["admin"],
        "inbound_office_answer(text,text,boolean,text,text,text,text)": ["notifier"],
        "office_bounce_alert(text,bigint,text)": ["notifier"],
    ]
}
