/// Keeping one SMTP session across messages, as the notifier's loops and the digest do.
extension SMTPConnection {
    /// The session to send the next message on: `kept` while it is usable, else a new one, which
    /// replaces it in `kept` (the old one closed). `reused` is true for a kept session: the relay
    /// may have dropped it while idle, which only its next command shows.
    public static func reusing(_ kept: inout SMTPConnection?, configuration: SMTPConfiguration, tls: TLSContext,
                               observe: PhaseObserver? = nil) throws(SMTPError) -> (connection: SMTPConnection, reused: Bool) {
        if let connection = kept, connection.isUsable { return (connection, true) }
        kept?.close()
        kept = nil
        let connection = try SMTPConnection(configuration: configuration, tls: tls, observe: observe)
        kept = connection
        return (connection, false)
    }
}
