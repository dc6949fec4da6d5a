import ChikayaCore
import Routing
import Foundation

/// The text of `complaints show`: one section per part of the record.
enum ComplaintReport {
    static func render(_ detail: ComplaintDetail, rulesSource: String?) -> String {
        let c = detail.complaint
        var out: [String] = []
        out.append("complaint \(c.reference)")
        out.append("  submitted       \(c.submittedAt.formatted(.iso8601))")
        out.append("  status          \(c.status)")
        out.append("  department      \(c.department.map(departmentLabel) ?? "-")")
        out.append("  arrondissement  \(c.arrondissement ?? "-")")
        out.append("  language        \(c.language ?? "-")")
        if c.anonymous {
            out.append("  citizen         anonymous")
        } else {
            out.append("  citizen         \(c.citizenName ?? "-")")
            out.append("  email           \(c.citizenEmail ?? "-")")
            out.append("  phone           \(c.citizenPhone ?? "-")")
            out.append("  notify in       \(c.notifyLanguage ?? c.language ?? "-")")
        }
        out.append("  text:")
        out += c.body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }

        out.append("")
        out.append("attachments (\(detail.attachments.count))")
        for a in detail.attachments {
            out.append("  \(a.fileName)  \(a.contentType)  \(a.byteSize) bytes  \(a.storageKey)")
        }

        out.append("")
        if let d = detail.decision {
            out.append("routing decision")
            out.append("  department      \(d.department)  confidence \(String(format: "%.3f", d.confidence))  runner-up \(d.runnerUp ?? "-")")
            out.append("  rules version   \(d.rulesVersion)")
            out.append("  decided         \(d.decidedAt.formatted(.iso8601)) by \(d.workerID)")
            if let duplicate = d.duplicateOf {
                out.append("  possible duplicate of \(duplicate), similarity \(String(format: "%.2f", d.duplicateSimilarity ?? 0))")
            }
            let matches = DecisionMatch.decode(d.matchesJSON, text: c.body)
            if matches.isEmpty {
                out.append("  matches         none")
            } else {
                out.append("  matches:")
                var table = TextTable(["DEPARTMENT", "WEIGHT", "TERM", "TEXT", "RULE", "COUNTED"], rightAligned: [1])
                for m in matches {
                    table.add([m.department, format(m.weight), m.term, m.text, m.rule, m.status])
                }
                out.append(table.render(indent: "    "))
                var scores: [String: Double] = [:]
                for m in matches where m.isCounted { scores[m.department, default: 0] += m.weight }
                out.append("  scores          " + scores.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                    .map { "\($0.key) \(format($0.value))" }.joined(separator: ", "))
            }
            if let line = decisionLine(c, decision: d, rulesSource: rulesSource) {
                out.append("  \(line)")
            }
        } else {
            out.append("routing decision: none yet (status \(c.status))")
        }

        out.append("")
        out.append("history (\(detail.events.count) events)")
        var events = TextTable(["#", "AT", "STATUS", "DEPARTMENT", "ACTOR", "NOTE"], rightAligned: [0])
        for e in detail.events {
            let status = e.fromStatus == e.toStatus ? e.toStatus : "\(e.fromStatus) -> \(e.toStatus)"
            let department = e.fromDepartment == e.toDepartment
                ? (e.toDepartment ?? "-") : "\(e.fromDepartment ?? "-") -> \(e.toDepartment ?? "-")"
            events.add([String(e.id), e.at.formatted(.iso8601), status, department, e.actor, e.note ?? ""])
        }
        if !detail.events.isEmpty { out.append(events.render(indent: "  ")) }

        out.append("")
        if detail.notesHidden {
            out.append("notes: not readable by this login")
        } else {
            out.append("notes (\(detail.notes.count))")
            // Outside text, several lines each: every line indented; `TextOutput.show` escapes
            // control characters for the terminal.
            for note in detail.notes {
                out.append("  #\(note.id)  \(note.at.formatted(.iso8601))  \(note.authorKind == "citizen" ? "citizen" : note.author):")
                out += note.body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
            }
        }

        out.append("")
        out.append("notifications (\(detail.notifications.count))")
        var notes = TextTable(["#", "ABOUT", "TO", "TEMPLATE", "LANG", "STATUS", "ATTEMPTS", "CREATED", "SENT", "ERROR"],
                              rightAligned: [0, 6])
        for n in detail.notifications {
            let about = n.eventID.map { "event \($0)" } ?? n.noteID.map { "note \($0)" } ?? n.noticeID.map { "notice \($0)" } ?? "-"
            notes.add([String(n.id), about, "\(n.recipientKind) \(n.recipient)", n.template, n.language ?? "-",
                       n.status, String(n.attempts), n.createdAt.formatted(.iso8601),
                       n.sentAt?.formatted(.iso8601) ?? "-", n.lastError ?? ""])
        }
        if !detail.notifications.isEmpty { out.append(notes.render(indent: "  ")) }
        return out.joined(separator: "\n")
    }

    /// The classifier's own "decision: ..." sentence, rebuilt from the published text of the
    /// rules version that decided, when that text is still stored and agrees with the decision.
    private static func decisionLine(_ c: ComplaintDetail.Complaint, decision: ComplaintDetail.Decision,
                                     rulesSource: String?) -> String? {
        guard let rulesSource, let rules = try? RuleSet.parse(source: rulesSource, fileName: "rules \(decision.rulesVersion)"),
              rules.version == decision.rulesVersion else { return nil }
        let classification = Classifier(rules: rules).classify(c.body, arrondissement: c.arrondissement)
        guard classification.department == decision.department else { return nil }
        return classification.explanation().split(separator: "\n").last { $0.hasPrefix("decision:") }.map(String.init)
    }

    private static func departmentLabel(_ code: String) -> String {
        CityDirectory.department(code).map { "\(code) (\($0.nameFR))" } ?? code
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
