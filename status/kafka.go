package status

import (
	"html/template"
	"strconv"
	"strings"

	"comet/kafka"
)

// kafkaReport adds the Kafka sources to r, and a problem for each one
// that has been unable to fetch for too long.
func (src *Source) kafkaReport(r *Report) {
	if src.Kafka == nil {
		return
	}
	r.Kafka = src.Kafka()
	for _, k := range r.Kafka {
		if p := k.Problem(r.Now); p != "" {
			r.Problems = append(r.Problems, p)
		}
	}
}

// writeKafkaMetrics writes the Kafka sources' families, through the
// writer's family and sample functions. Topic names come from the
// command line or, for a wildcard, from the cluster; the consumer takes
// only valid topic names, and sample escapes every label value anyway.
func writeKafkaMetrics(r *Report, family func(name, typ, help string), sample func(name string, v float64, labels ...string)) {
	if len(r.Kafka) == 0 {
		return
	}
	family("comet_kafka_connected", "gauge", "1 while a Kafka source is connected to its cluster.")
	for _, k := range r.Kafka {
		sample("comet_kafka_connected", b2f(k.Connected), "source", k.Name)
	}
	family("comet_kafka_records_total", "counter", "Records a Kafka source took, by what the broker made of them.")
	for _, k := range r.Kafka {
		for _, v := range kafka.Verdicts {
			sample("comet_kafka_records_total", float64(k.Records[v.String()]), "source", k.Name, "outcome", v.String())
		}
	}
	family("comet_kafka_batch_errors_total", "counter", "Record batches a Kafka source refused: damaged, of an unsupported codec, or too large.")
	for _, k := range r.Kafka {
		sample("comet_kafka_batch_errors_total", float64(k.BatchErrors), "source", k.Name)
	}
	family("comet_kafka_last_fetch_time_seconds", "gauge", "When a Kafka source's fetch was last answered, in seconds since the Unix epoch; 0 if never.")
	for _, k := range r.Kafka {
		sample("comet_kafka_last_fetch_time_seconds", unixSeconds(k.LastFetch), "source", k.Name)
	}
	family("comet_kafka_lag", "gauge", "Records a topic-partition holds that a Kafka source has not taken yet, as of its last fetch.")
	for _, k := range r.Kafka {
		for _, p := range k.Partitions {
			if p.Next < 0 || p.HighWatermark < 0 {
				continue // not known yet
			}
			sample("comet_kafka_lag", float64(p.Lag), "source", k.Name, "topic", p.Topic, "partition", strconv.Itoa(int(p.Partition)))
		}
	}
	var expiring bool
	for _, k := range r.Kafka {
		expiring = expiring || k.TokenExpires != nil
	}
	if expiring {
		family("comet_kafka_token_expiry_time_seconds", "gauge", "When the OAuth token a Kafka source uses expires, in seconds since the Unix epoch.")
		for _, k := range r.Kafka {
			if t := k.TokenExpires; t != nil {
				sample("comet_kafka_token_expiry_time_seconds", unixSeconds(*t), "source", k.Name)
			}
		}
	}
}

// labelValue is a label value in the exposition format: valid UTF-8,
// with backslash, double quote and newline escaped.
func labelValue(s string) string {
	return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// kafkaFuncs are the page's functions for the Kafka sources: verdicts
// lists the verdicts' names in order, offset shows an offset not yet
// known (-1) as "?".
var kafkaFuncs = template.FuncMap{
	"verdicts": func() []string {
		names := make([]string, len(kafka.Verdicts))
		for i, v := range kafka.Verdicts {
			names[i] = v.String()
		}
		return names
	},
	"offset": func(o int64) string {
		if o < 0 {
			return "?"
		}
		return strconv.FormatInt(o, 10)
	},
}
