// Package alert is the one delivery path of every listener: a tool builds
// an Alert (what happened, to which program, the text it mails) and hands
// it to a Queue, whose transports deliver it: mail (sendmail or SMTP, one
// message per alert, or one line of a batch mail), webhooks (one JSON
// document per alert, schema in docs/alert.schema.json, or Slack's
// {"text": ...}) and Prometheus Alertmanager (POST /api/v2/alerts to
// every instance of a cluster, with a lifecycle: a condition fires until
// it ends, an event resolves by itself).
//
// Queue.Send never waits on the network: every transport delivers in its
// own goroutines, with a deadline on every request and retries with
// backoff, so neither a slow mail server nor a stalled webhook delays the
// acknowledgement of an event or another transport. Queue.Close delivers
// what is left within a grace period.
package alert
