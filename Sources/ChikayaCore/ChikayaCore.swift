import Postgres
import Routing
import Mail
/// Namespace of the domain layer.
public enum ChikayaCore {}
