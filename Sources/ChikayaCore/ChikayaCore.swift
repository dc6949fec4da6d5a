import Postgres
import Routing
@_exported import Mail
/// Namespace of the domain layer.
public enum ChikayaCore {}
