// Package notify sends the mail that supervisord event listeners write: it
// renders a Message as an RFC 5322 mail, delivers it through a Transport
// (the sendmail program, or SMTP with deadlines, TLS and AUTH), and offers
// a Queue that delivers in the background so that an event loop never
// waits on a mail server, and a Batch that collects lines into one mail per
// interval.
//
// A Message never lets CR or LF reach a header: Validate rejects them, and
// addresses must parse with net/mail. Rendering adds Date, Message-Id and
// MIME-Version. A US-ASCII body goes out as 7bit text, its lines intact;
// only other bodies are encoded (UTF-8, quoted-printable). An optional
// Attachment makes the mail multipart/mixed.
//
// Transports:
//
//   - Sendmail runs a shell command line (by default
//     "/usr/sbin/sendmail -t -i") with the message on its stdin, LF line
//     endings, bounded by a timeout. Exit status 0 means delivered. Only the
//     configured command line goes through the shell; message data goes
//     through stdin.
//   - SMTP speaks to a server over net/smtp with a deadline on every step:
//     plain, STARTTLS (required, never a silent downgrade) or implicit TLS,
//     AUTH PLAIN when credentials are set, certificate verification on.
//
// Queue delivers any Delivery (Mail is the one for a Message): Enqueue and
// Add return at once, one goroutine delivers in order, retrying with a
// doubling pause capped at a few minutes until the item is delivered, a
// Permanent error gives it up, or it is dropped for room (oldest first); a
// Spool keeps queued mail across restarts. Close delivers what is left
// within a grace period and returns what it could not deliver. Every
// outcome is a log line.
package notify
