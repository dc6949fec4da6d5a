import Foundation
import Postgres
import Routing
import Synchronization

/// Why a complaint could not be routed on this attempt.
public struct RoutingFailure: Error, CustomStringConvertible {
    public let description: String
}

/// The worker cannot start: no routing rules are published yet (the database is fine; an
/// administrator has a step to take first).
public struct RulesNotPublished: Error, CustomStringConvertible {
    public let description: String
}

/// The classifier built from the rules in force, shared by the loops of a process so a
/// publication is parsed once.
final class RulesInForce: Sendable {
    private let cache = Mutex<[String: Classifier]>([:])

    /// The classifier for `publication`, parsing its text the first time.
    func classifier(for publication: RulesPublication) throws -> Classifier {
        if let known = cache.withLock({ $0[publication.version] }) { return known }
        let rules = try RulesAdmission.ruleSet(source: publication.source ?? "", fileName: publication.fileName,
                                               publishedVersion: publication.version)
        let classifier = Classifier(rules: rules)
        cache.withLock { $0[publication.version] = classifier }
        return classifier
    }
}

/// `chikaya worker`: loops that claim complaints, classify them and record the decisions.
///
/// Each loop owns one connection on its own thread. It wakes on `NOTIFY chikaya_routing` (or a
/// fallback poll), switches rules between batches on `NOTIFY chikaya_rules`, reconnects with
/// back-off when the database goes away, and never exits on a transient error.
public struct RoutingWorker: Sendable {
    public let configuration: Configuration
    public let logger: Logger
    public let concurrency: Int
    public let batchSize: Int
    public let drain: Bool
    let rules = RulesInForce()
    /// The routing notices a loop of this process already answers with a claim.
    let wakeUps = WakeUpLedger()
    let workerName: String

    public init(configuration: Configuration, logger: Logger, concurrency: Int, batchSize: Int, drain: Bool) {
        self.configuration = configuration
        self.logger = logger
        self.concurrency = concurrency
        self.batchSize = batchSize
        self.drain = drain
        self.workerName = ProcessIdentity.name
    }

    /// Fails with a message when no rules are published, so the operator knows what to do first.
    public func checkRulesPublished() throws {
        let db = try Database(configuration: configuration, role: "worker").connect()
        guard let latest = try RulesStore.latest(on: db) else {
            throw RulesNotPublished(description: "no routing rules are published yet; publish them first with: chikaya rules publish \(configuration.rulesFile)")
        }
        if try newestLoadable(on: db) == nil {
            _ = try rules.classifier(for: latest) // throws why the latest cannot be loaded
        }
    }

    /// The newest publication that loads, with its classifier: the latest one normally, an
    /// earlier one when the latest is refused (a worker starting then routes with the rules the
    /// running ones kept, and records their version).
    func newestLoadable(on db: PostgresConnection) throws(PostgresError) -> (publication: RulesPublication, classifier: Classifier)? {
        for publication in try RulesStore.recent(on: db, limit: 50) {
            if let classifier = try? rules.classifier(for: publication) { return (publication, classifier) }
        }
        return nil
    }

    /// Runs the loops until drained (with `drain`) or stopped by a signal; returns true on a
    /// clean finish.
    public func run(stop: StopSignal = StopSignal()) -> Bool {
        let runner = ServiceRunner(name: "worker", loops: concurrency, grace: configuration.shutdownGraceSeconds,
                                   logger: logger, stop: stop)
        logger.info("worker_started", [("loops", concurrency), ("batch", batchSize), ("drain", drain)])
        let clean = runner.run { index in
            RoutingLoop(worker: self, id: "\(workerName):\(index)", stop: stop).run()
        }
        logger.info("worker_stopped", [("clean", clean)])
        return clean
    }
}

/// One loop of the routing worker, on its own thread with its own connection.
struct RoutingLoop {
    let worker: RoutingWorker
    let id: String
    let stop: StopSignal
    var logger: Logger { worker.logger }
    var configuration: Configuration { worker.configuration }

    func run() {
        var database = LoopConnection(configuration: configuration, role: "worker", loop: id, logger: logger, stop: stop,
                                      channels: ["chikaya_routing", "chikaya_rules"])
        database.prepare = QueueStore.prepareSession
        // The notifier's wake-ups after each batch, sent on a connection of their own.
        let wakeUp = NotifierWakeUp(database: Database(configuration: configuration, role: "worker"), loop: id, logger: logger)
        defer { wakeUp.close() }
        // The classifier and the version of the publication it was built from: decisions carry
        // exactly that version, whatever was published since.
        var inForce: (classifier: Classifier, version: String)?
        // The classifier's buffers and token cache, kept across batches (the cache knows the
        // matcher it was filled for, so a new publication starts it afresh).
        var workspace = Classifier.Workspace()
        // The text keys of complaints this loop routed or read as candidates, not read again.
        var keyCache = DuplicateKeyCache()
        // The latest publication, when it could not be loaded: tried again every so often (and
        // on every notice) until a loadable one is published.
        var refused: String?
        var nextRulesCheck = 0.0
        // Set on every (re)connection and on a publication notice: a NOTIFY sent while we were
        // disconnected is lost, so a new connection always looks at the latest publication.
        var checkRules = true
        // False after a batch smaller than the claim's limit: that claim took every complaint then
        // due, and each one submitted since announces itself. Claiming again at once would find
        // nothing unless a notice is there to say otherwise.
        var claimAgain = true
        while !stop.isRequested {
            do {
                let (db, isNew) = try database.open()
                if isNew {
                    checkRules = true
                    claimAgain = true
                    // The first batch of a session took 40-50 ms instead of 5, most of it
                    // one-time work: done now, before any complaint waits for it.
                    try QueueStore.warmUp(worker: id, on: db)
                    wakeUp.connect()
                }
                // Notifications that arrived during the last batch: a rules publication means
                // reload before the next claim.
                let pending = try db.waitForNotifications(timeout: 0)
                if pending.contains(where: { $0.channel == "chikaya_rules" }) { checkRules = true }
                // The claim below answers these: another idle loop holding them need not claim.
                var announced = worker.wakeUps.take(routingNotices(pending))
                if refused != nil && monotonicNow() >= nextRulesCheck { checkRules = true }
                if checkRules {
                    checkRules = false
                    guard let publication = try RulesStore.latest(on: db) else {
                        logger.error("no_rules_published", [("loop", id)])
                        checkRules = true
                        stop.sleep(configuration.pollSeconds)
                        continue
                    }
                    if publication.version != inForce?.version {
                        do {
                            let classifier = try worker.rules.classifier(for: publication)
                            if inForce != nil { logger.info("rules_switched", [("loop", id), ("version", publication.version)]) }
                            if refused != nil { logger.info("rules_publication_loaded", [("loop", id), ("version", publication.version)]) }
                            inForce = (classifier, publication.version)
                            refused = nil
                        } catch {
                            if refused != publication.version {
                                logger.error("rules_publication_refused", [
                                    ("loop", id), ("publication", publication.id), ("version", publication.version),
                                    ("in_force", inForce?.version ?? "none"), ("error", "\(error)"),
                                ])
                            } else {
                                logger.warn("rules_publication_still_refused", [("loop", id), ("version", publication.version),
                                                                                 ("in_force", inForce?.version ?? "none")])
                            }
                            refused = publication.version
                            nextRulesCheck = monotonicNow() + max(configuration.pollSeconds, 30)
                            if inForce == nil {
                                guard let earlier = try worker.newestLoadable(on: db) else {
                                    stop.sleep(configuration.pollSeconds)
                                    continue
                                }
                                logger.warn("rules_fallback", [("loop", id), ("version", earlier.publication.version)])
                                inForce = (earlier.classifier, earlier.publication.version)
                            }
                        }
                    } else {
                        // A rollback to the rules already in force.
                        refused = nil
                    }
                    // Another publication may have come while this one was read and parsed
                    // (seconds for a large rule set on a busy machine): complaints submitted
                    // after it must not be claimed with the rules it replaces.
                    let later = try db.waitForNotifications(timeout: 0)
                    if later.contains(where: { $0.channel == "chikaya_rules" }) {
                        checkRules = true
                        continue
                    }
                    if worker.wakeUps.take(routingNotices(later)) { announced = true }
                }
                guard let (active, rulesVersion) = inForce else { continue }
                if !claimAgain && !announced && !worker.drain {
                    // Nothing announced during the last batch, or another loop answers it: wait
                    // for a notice (or the poll) rather than claim for nothing.
                    claimAgain = true
                    if try waitForWork(on: db, seconds: configuration.pollSeconds) { checkRules = true }
                    continue
                }
                claimAgain = true

                let claimStarted = monotonicNow()
                let batch = try QueueStore.claim(on: db, limit: worker.batchSize, worker: id,
                                                 leaseSeconds: configuration.leaseSeconds,
                                                 maxAttempts: configuration.maxAttempts)
                RoutingMetrics.shared.claimed(batch.count, since: claimStarted)
                if batch.isEmpty {
                    if worker.drain, try !QueueStore.hasPending(on: db) { break }
                    // Draining, what is still pending is held by another loop and will be done
                    // in milliseconds: look again soon rather than after a whole poll period.
                    if try waitForWork(on: db, seconds: configuration.idleWait(draining: worker.drain)) { checkRules = true }
                    continue
                }
                try route(batch, classifier: active, workspace: &workspace, keyCache: &keyCache, rulesVersion: rulesVersion,
                          claimSeconds: monotonicNow() - claimStarted, wakeUp: wakeUp, on: db)
                claimAgain = batch.count >= worker.batchSize
            } catch {
                if database.recover(from: error) { continue }
                logger.error("loop_error", [("loop", id), ("error", "\(error)")])
                stop.sleep(configuration.pollSeconds)
            }
        }
    }

    /// Waits for a routing notice that no other loop of this process answers already (false), a
    /// rules notice (true), the end of `seconds` or a stop request (false).
    private func waitForWork(on db: PostgresConnection, seconds: Double) throws(PostgresError) -> Bool {
        let deadline = monotonicNow() + seconds
        while true {
            let woken = try db.waitForNotifications(until: deadline, unless: stop)
            if woken.isEmpty { return false }
            if woken.contains(where: { $0.channel == "chikaya_rules" }) { return true }
            if worker.wakeUps.take(routingNotices(woken)) { return false }
        }
    }

    /// The payloads of the routing notices among `notifications`.
    private func routingNotices(_ notifications: [PostgresNotification]) -> [String] {
        notifications.compactMap { $0.channel == "chikaya_routing" ? $0.payload : nil }
    }

    /// Classifies a claimed batch and writes it: one transaction for the batch, and when that
    /// fails for a reason other than the connection or a lock, one per complaint so a bad one
    /// is isolated.
    ///
    /// Complaints locked by another session are left out of the batch's transaction and given
    /// back to the queue without counting an attempt, so one complaint held elsewhere neither
    /// delays the others nor drives anything to the dead letters.
    private func route(_ batch: [ClaimedComplaint], classifier: Classifier, workspace: inout Classifier.Workspace,
                       keyCache: inout DuplicateKeyCache, rulesVersion: String, claimSeconds: Double,
                       wakeUp: NotifierWakeUp, on db: PostgresConnection) throws {
        let started = monotonicNow()
        var outcomes: [RoutingOutcome] = []
        var failures: [(ClaimedComplaint, String)] = []
        var blocked: [Int64] = []
        var textKeys: [Int64: [Int32]] = [:]
        outcomes.reserveCapacity(batch.count)
        textKeys.reserveCapacity(batch.count)
        for complaint in batch {
            do {
                let result = try classify(complaint, with: classifier, workspace: &workspace)
                let decision = result.decision
                outcomes.append(RoutingOutcome(complaintID: complaint.id, department: decision.department,
                                               confidence: decision.confidence,
                                               runnerUp: decision.runnerUpIndex.map { CityDirectory.departments[$0].code },
                                               matchesJSON: result.matchesJSON))
                textKeys[complaint.id] = result.textKeys
                if logger.enabled(.debug) {
                    logger.debug("complaint_routed", [("reference", complaint.reference), ("department", decision.department),
                                                      ("confidence", String(format: "%.3f", decision.confidence))])
                }
            } catch {
                failures.append((complaint, "\(error)"))
            }
        }
        var written = 0
        if !outcomes.isEmpty {
            do {
                (written, blocked) = try write(&outcomes, batch: batch, textKeys: textKeys, keyCache: &keyCache,
                                               rulesVersion: rulesVersion, wakeUp: wakeUp, on: db)
            } catch let error as PostgresError where error.isConnectionProblem {
                throw error
            } catch {
                // What the batch's transaction wrote is undone; each way below starts afresh.
                if db.isConnected && db.isInTransaction { try db.executeScript("ROLLBACK") }
                if let error = error as? PostgresError, error.isContention {
                    // A lock held elsewhere on something other than the complaints (a deadlock, a
                    // migration's DDL): nothing is wrong with these complaints, and writing them one
                    // by one would only wait on the same lock again. Give them back uncounted.
                    logger.warn("batch_write_contended", [("loop", id), ("error", error.description), ("count", outcomes.count)])
                    blocked = outcomes.map(\.complaintID)
                } else {
                    logger.warn("batch_write_failed", [("loop", id), ("error", "\(error)"), ("count", outcomes.count)])
                    for outcome in outcomes {
                        // Stopping: the rest keep their lease and return to the queue when it ends.
                        if stop.isRequested { break }
                        do {
                            written += try db.transaction { db in
                                try QueueStore.finish([outcome], rulesVersion: rulesVersion, worker: id, on: db)
                            }.decided
                        } catch let error as PostgresError where error.isConnectionProblem {
                            throw error
                        } catch {
                            if let complaint = batch.first(where: { $0.id == outcome.complaintID }) {
                                failures.append((complaint, "\(error)"))
                            }
                        }
                    }
                }
            }
        }
        if !blocked.isEmpty {
            // Soon, but not at once: the lock's holder usually needs a moment more.
            try QueueStore.release(complaintIDs: blocked, reason: "locked by another session; retried without counting an attempt",
                                   retryAfter: RetryPolicy.routing.delay(afterAttempt: 2), worker: id, on: db)
            logger.info("complaints_locked_elsewhere", [("loop", id), ("count", blocked.count)])
        }
        for (complaint, message) in failures {
            let delay = RetryPolicy.routing.delay(afterAttempt: complaint.attempts)
            try QueueStore.fail(complaintID: complaint.id, error: message, retryAfter: delay,
                                maxAttempts: configuration.maxAttempts, worker: id, on: db)
            let dead = complaint.attempts >= configuration.maxAttempts
            RoutingMetrics.shared.failed(dead: dead)
            logger.warn(dead ? "complaint_dead" : "complaint_retry",
                        [("reference", complaint.reference), ("attempt", complaint.attempts), ("error", message)])
        }
        RoutingMetrics.shared.batchFinished(outcomes, failedIDs: failures.map(\.0.id), since: started)
        logger.info("batch_routed", [("loop", id), ("claimed", batch.count), ("decided", written),
                                     ("failed", failures.count), ("blocked", blocked.count),
                                     ("claim_ms", String(format: "%.1f", claimSeconds * 1000)),
                                     ("ms", String(format: "%.1f", (monotonicNow() - started) * 1000))])
    }

    /// Writes the decisions of `outcomes` in one transaction of two round trips, and returns how
    /// many were decided and the ids left out because another session holds them.
    ///
    /// The first round trip opens the transaction, locks the batch's complaints (those another
    /// session holds are left out at once, to be given back uncounted) and reads the duplicate
    /// candidates; the links are chosen here; the second writes the decisions and commits. The
    /// write locks no other complaint: a duplicate link names an earlier complaint without
    /// sharing its row (migration 14), so a department's system that holds that complaint while
    /// editing it does not hold the batch back. A failure leaves the transaction open for the
    /// caller to roll back, and `outcomes` carrying whatever links were chosen.
    private func write(_ outcomes: inout [RoutingOutcome], batch: [ClaimedComplaint], textKeys: [Int64: [Int32]],
                       keyCache: inout DuplicateKeyCache, rulesVersion: String, wakeUp: NotifierWakeUp,
                       on db: PostgresConnection) throws -> (decided: Int, blocked: [Int64]) {
        let lookup = configuration.duplicateWindowDays > 0
            ? duplicateLookup(&outcomes, batch: batch, textKeys: textKeys, keyCache: keyCache) : nil
        let ids = outcomes.map(\.complaintID)
        let (held, candidates) = try QueueStore.beginBatchWrite(complaintIDs: ids, worker: id, duplicates: lookup?.query,
                                                                knownKeys: { keyCache[$0] }, on: db)
        var writable = outcomes
        if let lookup {
            let duplicates = DuplicateInputs(items: lookup.items, candidates: candidates, threshold: configuration.duplicateThreshold)
            duplicates.link(&outcomes, items: lookup.items)
            writable = outcomes.filter { !held.contains($0.complaintID) }
            if !held.isEmpty {
                // A complaint held elsewhere is not decided now, so it is no open complaint to
                // link to: link again among what is written now.
                duplicates.relink(&writable, excluding: held)
            }
        } else if !held.isEmpty {
            writable = outcomes.filter { !held.contains($0.complaintID) }
        }
        let commit = try QueueStore.finishAndCommit(writable, rulesVersion: rulesVersion, worker: id, on: db)
        if commit.notificationsQueued { wakeUp.send() }
        if let lookup {
            // Held for the next batches: the candidates read, and what this batch decided (a
            // complaint in a group is a candidate of the next ones there).
            for candidate in candidates {
                keyCache.insert(candidate.complaintID, group: candidate.group, keys: candidate.textKeys)
            }
            // Only when every one was decided: a complaint assigned by hand meanwhile has no
            // decision, so no keys a candidate could be read with.
            if commit.decided == writable.count {
                let written = Set(writable.map(\.complaintID))
                for item in lookup.items where written.contains(item.complaintID) && !item.textKeys.isEmpty {
                    if let group = item.group { keyCache.insert(item.complaintID, group: group, keys: item.textKeys) }
                }
            }
        }
        return (commit.decided, ids.filter { held.contains($0) })
    }

    /// Keeps each outcome's text keys and returns what the batch's duplicate lookup needs: one
    /// query for the batch's groups (arrondissement and department), the comparison here.
    private func duplicateLookup(_ outcomes: inout [RoutingOutcome], batch: [ClaimedComplaint], textKeys: [Int64: [Int32]],
                                 keyCache: DuplicateKeyCache) -> (query: DuplicateQuery, items: [DuplicateFinder.Item]) {
        var byID: [Int64: ClaimedComplaint] = [:]
        for complaint in batch { byID[complaint.id] = complaint }
        var items: [DuplicateFinder.Item] = []
        items.reserveCapacity(outcomes.count)
        var groups = Set<DuplicateGroup>()
        for k in outcomes.indices {
            guard let complaint = byID[outcomes[k].complaintID] else { continue }
            let keys = textKeys[complaint.id] ?? TextSimilarity.keys(of: complaint.body)
            outcomes[k].textKeys = keys
            let group = complaint.arrondissement.map { DuplicateGroup(arrondissement: $0, department: outcomes[k].department) }
            if let group, !keys.isEmpty { groups.insert(group) }
            items.append(DuplicateFinder.Item(complaintID: outcomes[k].complaintID, group: group, textKeys: keys))
        }
        // The keys the loop holds of those groups' complaints are not read again.
        let query = DuplicateQuery(groups: Array(groups), windowDays: configuration.duplicateWindowDays,
                                   perGroup: configuration.duplicateCandidates, known: keyCache.ids(in: groups))
        return (query, items)
    }

    private func classify(_ complaint: ClaimedComplaint, with classifier: Classifier,
                          workspace: inout Classifier.Workspace) throws -> Classifier.Record {
        let hooks = RoutingFaultHooks.current
        if hooks.slowClassifySeconds > 0 {
            usleepSeconds(hooks.slowClassifySeconds)
        }
        if let marker = hooks.poisonMarker, complaint.body.contains(marker) {
            throw RoutingFailure(description: "test poison marker found in the complaint")
        }
        return classifier.record(complaint.body, arrondissement: complaint.arrondissement, workspace: &workspace)
    }
}

/// What the duplicate links of a batch were chosen from, kept to choose them again when some of
/// the batch's complaints cannot be written now.
struct DuplicateInputs {
    let items: [DuplicateFinder.Item]
    let candidates: [DuplicateCandidate]
    let threshold: Double

    /// Sets the link of each outcome from `items` (an outcome without an item gets none).
    func link(_ outcomes: inout [RoutingOutcome], items: [DuplicateFinder.Item]) {
        let links = DuplicateFinder.links(for: items, candidates: candidates, threshold: threshold)
        var linkByID: [Int64: DuplicateLink] = [:]
        for (item, link) in zip(items, links) where link != nil { linkByID[item.complaintID] = link }
        for k in outcomes.indices { outcomes[k].duplicate = linkByID[outcomes[k].complaintID] }
    }

    /// Links `outcomes` again as if the complaints of `excluded` were not in the batch (nor among
    /// the earlier ones): each keeps its link unless that link pointed at an excluded complaint.
    func relink(_ outcomes: inout [RoutingOutcome], excluding excluded: Set<Int64>) {
        guard outcomes.contains(where: { $0.duplicate.map { excluded.contains($0.complaintID) } ?? false }) else { return }
        link(&outcomes, items: items.filter { !excluded.contains($0.complaintID) })
    }
}
