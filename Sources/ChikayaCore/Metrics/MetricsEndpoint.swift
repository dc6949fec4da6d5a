import Foundation
import Metrics

/// `--metrics-listen`: the process's `/metrics` (its registry, in the Prometheus text format) and
/// `/healthz` (200 while it runs, 503 once it is stopping) on a thread of its own.
public enum MetricsEndpoint {
    /// Binds `address` and starts answering; a taken port or a bad host is reported at once.
    public static func start(_ address: ListenAddress, component: String, version: String, stop: StopSignal,
                             logger: Logger, registry: MetricsRegistry = .process) throws(HTTPResponderError) -> HTTPResponder {
        ProcessMetrics.register(component: component, version: version, in: registry)
        let responder = try HTTPResponder(listen: address) { head in
            respond(to: head, registry: registry, stop: stop)
        }
        responder.start(name: "\(component)-metrics")
        logger.info("metrics_listening", [("address", responder.address.description)])
        return responder
    }

    static func respond(to head: HTTPRequestHead, registry: MetricsRegistry, stop: StopSignal) -> HTTPResponse {
        let path = head.path
        guard path == "/metrics" || path == "/healthz" else { return HTTPResponse(.notFound, body: "not found: try /metrics or /healthz\n") }
        guard head.method == "GET" else {
            return HTTPResponse(.methodNotAllowed, body: "only GET\n", extraHeaders: [("Allow", "GET")])
        }
        if path == "/healthz" {
            return stop.isRequested ? HTTPResponse(.serviceUnavailable, body: "stopping\n") : HTTPResponse(.ok, body: "ok\n")
        }
        return HTTPResponse(.ok, contentType: PrometheusText.contentType, body: registry.exposition())
    }
}

/// Facts about the process itself, set once when its endpoint starts.
enum ProcessMetrics {
    static func register(component: String, version: String, in registry: MetricsRegistry) {
        let info = registry.gauge("chikaya_build_info", help: "Always 1; the labels say which program and version run.",
                                  labels: ["component", "version"])
        info.set(1, component, version)
        let start = registry.gauge("chikaya_process_start_time_seconds", help: "When this process started, in seconds since the epoch.")
        start.set(Date().timeIntervalSince1970)
    }
}
