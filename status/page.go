package status

import (
	"html/template"
	"time"
)

// page is / : the report for a person, refreshed every 10 s, no script.
// html/template escapes every value, peer-supplied or not.
var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
}).Funcs(kafkaFuncs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>comet {{.LocalIVO}}</title>
<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.bad{color:#b00}</style>
</head><body>
<h1>comet {{.Version}} — {{.LocalIVO}}</h1>
<p>Started {{when .Start}}; page made {{when .Now}}.</p>
{{if .Healthy}}<p>Health: <b>ok</b></p>{{else}}<p class="bad">Health: <b>unhealthy</b></p>
<ul class="bad">{{range .Problems}}<li>{{.}}</li>{{end}}</ul>{{end}}

<h2>Listeners</h2>
<table><tr><th>role</th><th>address</th><th>state</th></tr>
{{range .Listeners}}<tr><td>{{.Role}}</td><td>{{.Addr}}</td><td>{{if .Err}}<span class="bad">failing since {{when .ErrSince}}: {{.Err}}</span>{{else}}ok{{end}}</td></tr>
{{end}}</table>

<h2>Counters</h2>
{{with .Counters}}<table>
<tr><td>accepted from authors</td><td>{{.AcceptedFromAuthors}}</td></tr>
<tr><td>accepted from remotes</td><td>{{.AcceptedFromRemotes}}</td></tr>
<tr><td>refused: not well-formed</td><td>{{.RefusedNotWellFormed}}</td></tr>
<tr><td>refused: invalid</td><td>{{.RefusedInvalid}}</td></tr>
<tr><td>refused: storage failure</td><td>{{.RefusedStorageFailure}}</td></tr>
<tr><td>refused: oversized</td><td>{{.RefusedOversized}}</td></tr>
<tr><td>duplicates</td><td>{{.Duplicates}}</td></tr>
<tr><td>deliveries to subscribers</td><td>{{.Deliveries}}</td></tr>
<tr><td>deliveries dropped</td><td>{{.DeliveriesDropped}}</td></tr>
<tr><td>filter cut-offs</td><td>{{.FilterCutoffs}}</td></tr>
<tr><td>connections refused: limit</td><td>{{.ConnsRefusedLimit}}</td></tr>
<tr><td>connections refused: whitelist</td><td>{{.ConnsRefusedWhitelist}}</td></tr>
{{with .Signatures}}{{range $o, $n := .Outcomes}}<tr><td>signatures: {{$o}}</td><td>{{$n}}</td></tr>
{{end}}<tr><td>refused for their signature: authors / remotes</td><td>{{.RefusedFromAuthors}} / {{.DroppedFromRemotes}}</td></tr>
{{end}}</table>{{end}}

<h2>Last event</h2>
{{with .LastEvent}}<p>{{.IVORN}} at {{when .Time}} from {{.Source}}</p>{{else}}<p>none yet</p>{{end}}

<h2>Subscribers ({{len .Subscribers}})</h2>
<table><tr><th>address</th><th>since</th><th>filters</th><th>sent</th><th>acks</th><th>naks</th><th>queued</th><th>last ack</th></tr>
{{range .Subscribers}}<tr><td>{{.Addr}}{{with .Identity}} ({{.}}){{end}}</td><td>{{when .Since}}</td><td>{{.Filters}}</td><td>{{.Sent}}</td><td>{{.Acks}}</td><td>{{.Naks}}</td><td>{{.Queued}}</td><td>{{when .LastAck}}</td></tr>
{{end}}</table>

<h2>Remote brokers</h2>
<table><tr><th>address</th><th>state</th><th>since</th><th>next attempt</th><th>last message</th><th>events</th><th>reconnects</th></tr>
{{range .Remotes}}<tr><td>{{.Addr}}</td><td>{{.State}}</td><td>{{when .Since}}</td><td>{{if .Next.IsZero}}{{else}}{{when .Next}}{{end}}</td><td>{{when .LastMessage}}</td><td>{{.Events}}</td><td>{{.Reconnects}}</td></tr>
{{end}}</table>

{{if .Kafka}}<h2>Kafka sources</h2>
{{range $k := .Kafka}}<h3>{{.Name}}</h3>
<p>Cluster {{.Cluster}}: {{if .Connected}}{{.State}}{{else}}<span class="bad">{{.State}}, not connected</span>{{end}}; since {{when .Since}}; last fetch {{when .LastFetch}}{{with .TokenExpires}}; token expires {{when .}}{{end}}.
Topics: {{range $i, $t := .Topics}}{{if $i}}, {{end}}{{$t}}{{end}}.
Records: {{range $v := verdicts}}{{$v}} {{index $k.Records $v}} {{end}}· batch errors {{.BatchErrors}}{{with .LastError}} · <span class="bad">last error: {{.}}</span>{{end}}</p>
<table><tr><th>topic</th><th>partition</th><th>next offset</th><th>high watermark</th><th>lag</th><th>last record</th></tr>
{{range .Partitions}}<tr><td>{{.Topic}}</td><td>{{.Partition}}</td><td>{{offset .Next}}</td><td>{{offset .HighWatermark}}</td><td>{{if and (ge .Next 0) (ge .HighWatermark 0)}}{{.Lag}}{{else}}?{{end}}</td><td>{{with .LastRecord}}{{when .}}{{else}}never{{end}}</td></tr>
{{end}}</table>
{{end}}{{end}}
<h2>Handlers</h2>
<table><tr><th>name</th><th>queued</th><th>done</th><th>failed</th><th>skipped</th></tr>
{{range .Handlers}}<tr><td>{{.Name}}</td><td>{{.Queued}}</td><td>{{.Done}}</td><td>{{.Failed}}</td><td>{{.Skipped}}</td></tr>
{{end}}</table>

<h2>Seen-events store</h2>
{{with .Store}}<p>{{.Keys}} events remembered; log file {{.FileBytes}} bytes; {{if .Compacted}}last compacted {{.Compacted.UTC.Format "2006-01-02 15:04:05Z"}}{{else}}not compacted since start{{end}}.{{if .Error}} <span class="bad">{{.Error}}</span>{{end}}</p>{{end}}
<p><a href="/status">JSON</a> · <a href="/metrics">metrics</a> · <a href="/healthz">health</a></p>
</body></html>
`))
