/// Namespace of the mail layer: SMTP client, MIME builder and templates.
public enum Mail {}
