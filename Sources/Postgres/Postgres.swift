import CLibPQ
/// Namespace of the PostgreSQL layer.
public enum Postgres {}
