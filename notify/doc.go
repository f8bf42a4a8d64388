// Package notify sends the mail that supervisord event listeners write: it
// renders a Message as an RFC 5322 mail, delivers it through a Transport
// (the sendmail program, or SMTP with deadlines, TLS and AUTH), and offers a
// Queue that delivers in the background so that an event loop never waits
// on a mail server.
//
// A Message never lets CR or LF reach a header: Validate rejects them, and
// addresses must parse with net/mail. Rendering adds Date, Message-Id,
// MIME-Version and a quoted-printable UTF-8 text body; header order is not
// fixed, so compare parsed fields, not bytes.
//
// Transports:
//
//   - Sendmail runs a shell command line (superlance's -s, by default
//     "/usr/sbin/sendmail -t -i") with the message on its stdin, LF line
//     endings, bounded by a timeout. Only the configured command line goes
//     through the shell; message data goes through stdin.
//   - SMTP speaks to a server over net/smtp with a deadline on every step:
//     plain, STARTTLS (required, never a silent downgrade) or implicit TLS,
//     AUTH PLAIN when credentials are set, certificate verification on.
//
// Queue is what an event listener uses: Enqueue validates and returns at
// once (a few microseconds), one goroutine delivers with retries and
// backoff, a full queue drops its oldest message, and Close delivers what
// is left within a grace period and returns what it could not deliver.
// Every outcome is a log line.
package notify
