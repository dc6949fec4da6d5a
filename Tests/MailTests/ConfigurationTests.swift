import Testing
@testable import Mail

@Suite struct ConfigurationTests {
    @Test func startTLSWithCredentials() throws {
        let configuration = try SMTPConfiguration(url: "smtp://user%40city:p%C3%A0ss@relay.casablanca.ma:587?tls=starttls", caFile: "/etc/ca.pem")
        #expect(configuration.host == "relay.casablanca.ma")
        #expect(configuration.port == 587)
        #expect(configuration.tls == .startTLS)
        #expect(configuration.username == "user@city")
        #expect(configuration.password == "pàss")
        #expect(configuration.caFile == "/etc/ca.pem")
        #expect(!configuration.description.contains("pàss") && !configuration.description.contains("p%C3%A0ss"))
        #expect(!"\(configuration)".contains("ss@"))
    }

    /// A literal "%41" in a password is written "%2541" in the URL and must come back as "%41".
    @Test func credentialsAreDecodedOnce() throws {
        let configuration = try SMTPConfiguration(url: "smtp://a%2541:x%2541y@relay:587", caFile: nil)
        #expect(configuration.username == "a%41")
        #expect(configuration.password == "x%41y")
    }

    @Test func implicitTLSDefaultsToPort465() throws {
        let configuration = try SMTPConfiguration(url: "smtps://relay.example", caFile: nil)
        #expect(configuration.tls == .implicit && configuration.port == 465)
    }

    @Test func plainLocalRelayWithTimeouts() throws {
        let configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:2525?tls=none&timeout=3&data_timeout=9", caFile: nil)
        #expect(configuration.tls == .none && configuration.port == 2525)
        #expect(configuration.timeouts.command == 3 && configuration.timeouts.dataTermination == 9)
    }

    @Test(arguments: ["http://relay", "smtp://", "smtp://relay?tls=maybe", "smtp://relay?colour=blue",
                      "smtp://user:secret@relay?tls=none", "smtp://relay?timeout=-1", "smtps://relay?tls=starttls"])
    func badURLsAreRefusedWithoutLeakingThePassword(url: String) {
        let error = #expect(throws: MailConfigurationError.self) { _ = try SMTPConfiguration(url: url, caFile: nil) }
        #expect(error?.message.contains("secret") == false)
    }

    @Test func insecureAuthOnlyWhenAskedFor() throws {
        let configuration = try SMTPConfiguration(url: "smtp://user:secret@127.0.0.1:25?tls=none&allow_insecure_auth=true", caFile: nil)
        #expect(configuration.allowInsecureAuth)
    }
}
