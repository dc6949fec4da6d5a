@_exported import Postgres
@_exported import Routing
@_exported import Mail
@_exported import Metrics

/// Namespace of the domain layer: schema, stores, worker and notifier loops, configuration.
public enum ChikayaCore {}
