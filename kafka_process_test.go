//go:build unix

package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests here run comet with a Kafka source against kafkapeer and
// check what a user would notice: every record produced reaches a VTP
// subscriber of comet exactly once, by ivorn, whatever the cluster does
// (short-lived tokens and sessions, leader moves, dropped connections,
// retention) and whatever happens to comet (kill -9). Helpers are in
// kafka_process_peer_test.go.

// secrets reads the secret values of a kafkapeer credentials file.
func secrets(t *testing.T, p *kpeer) []string {
	t.Helper()
	b, err := os.ReadFile(p.creds())
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if (k == "client_secret" || k == "password") && len(v) >= 8 {
			s = append(s, v)
		}
	}
	return s
}

// TestKafkaOAuthShortTokens: against a GCN-like cluster (TLS,
// OAUTHBEARER) whose tokens live 12 s and whose sessions are capped at
// 6 s, records produced steadily across three token lifetimes all reach
// a subscriber, once each, in order. The peer sees the sessions renewed
// (re-authentication or new connections), no authentication fail, and
// never has to close a connection for an expired session.
func TestKafkaOAuthShortTokens(t *testing.T) {
	const topic = "gcn.classic.voevent.TEST"
	ttl, session := 12*time.Second, 6*time.Second
	if s := os.Getenv("KAFKA_TEST_SESSION"); s != "" { // to try other sessions by hand
		session, _ = time.ParseDuration(s)
	}
	p := startKPeer(t, "-brokers=1", "-sasl=oauthbearer", "-token-ttl="+ttl.String(), "-session-lifetime="+session.String(), "-topics="+topic+":1")
	c := startKafkaComet(t, freePort(t), freePort(t), t.TempDir(), p, []string{p.url(topic)}, "--status=tcp:0:interface=127.0.0.1")
	sub := subscribeTo(t, c)
	pr := startKProducer(t, p, topic, "zstd", "oauth", 250*time.Millisecond, 1)
	// Produce across three token lifetimes: the span is not asserted on,
	// only what arrives.
	time.Sleep(3 * ttl)
	want := pr.finish()
	waitReceived(t, sub, len(want), c)
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	checkOnce(t, sub.received(), want, true)

	st := p.stats(t)
	t.Logf("%d records; peer: %d tokens, %d connections, %d re-authentications, closes %v",
		len(want), st.Tokens.Issued, st.Connections.Accepted, st.SASL.ReauthOK, st.Connections.CloseReasons)
	if n := st.Connections.CloseReasons["session expired"]; n > 0 {
		t.Errorf("the peer closed %d connections of comet's for an expired session: comet did not renew them in time", n)
	}
	if st.SASL.AuthFailed > 0 || st.SASL.HandshakesFailed > 0 || st.Tokens.Refused > 0 {
		t.Errorf("%d authentications and %d SASL handshakes failed, %d tokens refused",
			st.SASL.AuthFailed, st.SASL.HandshakesFailed, st.Tokens.Refused)
	}
	// Each session was renewed before it ended, by re-authenticating or
	// reconnecting.
	if renewals, want := st.SASL.ReauthOK+st.Connections.Accepted-1, int64(3*ttl/session)-1; renewals < want {
		t.Errorf("sessions renewed %d times in %v with sessions of %v", renewals, 3*ttl, session)
	}
	// Renewing a session is routine: the operator sees no warning.
	for _, line := range strings.Split(c.stderr.String(), "\n") {
		if strings.Contains(line, "kafka") && (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) {
			t.Errorf("comet: %s", line)
		}
	}
	assertNoSecret(t, "the log", c.stderr.String(), secrets(t, p)...)
	assertNoSecret(t, "the status pages", pages(t, c.statusAddr(t)), secrets(t, p)...)
}

// TestKafkaTokenRevoked: the token endpoint's signing key is rotated
// while records flow (every token issued so far stops validating, as when
// a credential's key changes): the refused token is dropped at once, a
// new one fetched, and every record arrives once, in order.
func TestKafkaTokenRevoked(t *testing.T) {
	const topic = "gcn.classic.voevent.TEST"
	p := startKPeer(t, "-brokers=1", "-sasl=oauthbearer", "-token-ttl=40s", "-session-lifetime=8s", "-topics="+topic+":1")
	c := startKafkaComet(t, freePort(t), freePort(t), t.TempDir(), p, []string{p.url(topic)})
	sub := subscribeTo(t, c)
	pr := startKProducer(t, p, topic, "zstd", "revoke", 200*time.Millisecond, 1)
	waitReceived(t, sub, 10, c)
	before := p.stats(t)
	p.post(t, "/revoke", nil, nil, nil)
	// Sessions of 8 s are renewed within 8 s: then the revoked token is
	// refused and a new one taken.
	deadline := time.Now().Add(time.Minute)
	for p.stats(t).Tokens.Issued == before.Tokens.Issued {
		if time.Now().After(deadline) {
			t.Fatalf("no new token within a minute of the revocation:\n%s", c.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitReceived(t, sub, pr.count()+10, c)
	want := pr.finish()
	waitReceived(t, sub, len(want), c)
	time.Sleep(300 * time.Millisecond)
	checkOnce(t, sub.received(), want, true)
	st := p.stats(t)
	t.Logf("%d records; peer: %d tokens, %d authentications failed, closes %v", len(want), st.Tokens.Issued, st.SASL.AuthFailed, st.Connections.CloseReasons)
	if st.SASL.AuthFailed > 1 {
		t.Errorf("%d authentications failed after one revocation: the refused token was offered again", st.SASL.AuthFailed)
	}
	assertNoSecret(t, "the log", c.stderr.String(), secrets(t, p)...)
}

// TestKafkaSCRAMCodecsPartitions: a Hopskotch-like cluster (TLS,
// SCRAM-SHA-512), one source on two topics, one of them with two
// partitions; batches of realistic 5 kB VOEvents compressed with zstd,
// gzip and not at all. Every record arrives once, each partition's in
// offset order. A snappy batch (not supported) and a record larger than
// --max-frame-size are passed over, each with a line naming where it is,
// and the partition goes on.
func TestKafkaSCRAMCodecsPartitions(t *testing.T) {
	const two, one = "hop.test.two", "hop.test.one"
	p := startKPeer(t, "-brokers=1", "-sasl=scram-sha-512", "-topics="+two+":2,"+one+":1")
	c := startKafkaComet(t, freePort(t), freePort(t), t.TempDir(), p, []string{p.url(two + "," + one)},
		"--max-frame-size=8192", "--status=tcp:0:interface=127.0.0.1")
	sub := subscribeTo(t, c)
	type tp struct {
		topic     string
		partition int
	}
	byTP := map[tp][]string{}
	var want []string
	n := 0
	for _, codec := range []string{"zstd", "gzip", "none", "zstd"} {
		for _, at := range []tp{{two, 0}, {two, 1}, {one, 0}} {
			var vals [][]byte
			for range 8 {
				id := kafkaIVORN("scram-"+codec, n)
				n++
				vals = append(vals, kafkaEvent(t, id))
				byTP[at] = append(byTP[at], id)
				want = append(want, id)
			}
			p.produce(t, at.topic, at.partition, codec, vals...)
		}
	}
	// On two/1, after its 32 records: a snappy batch, a 10 kB event, and
	// one more record that must come through.
	p.produce(t, two, 1, "snappy", kafkaEvent(t, kafkaIVORN("snappy", 0)), kafkaEvent(t, kafkaIVORN("snappy", 1)))
	big, err := os.ReadFile("testdata/voevent/event-10k.xml")
	if err != nil {
		t.Fatal(err)
	}
	bigAt := p.produce(t, two, 1, "zstd", ivornAttrRE.ReplaceAll(big, []byte(`ivorn="`+kafkaIVORN("big", 0)+`"`)))[0]
	last := kafkaIVORN("after", 0)
	p.produce(t, two, 1, "gzip", kafkaEvent(t, last))
	byTP[tp{two, 1}] = append(byTP[tp{two, 1}], last)
	want = append(want, last)

	waitReceived(t, sub, len(want), c)
	time.Sleep(300 * time.Millisecond)
	got := sub.received()
	checkOnce(t, got, want, false)
	var snappySaid, bigSaid bool
	for _, line := range strings.Split(c.stderr.String(), "\n") {
		where := strings.Contains(line, "topic="+two) && strings.Contains(line, "partition=1")
		snappySaid = snappySaid || where && strings.Contains(line, "level=ERROR") && strings.Contains(line, "snappy")
		bigSaid = bigSaid || where && strings.Contains(line, "level=WARN") && strings.Contains(line, fmt.Sprintf("offset=%d ", bigAt))
	}
	if !snappySaid || !bigSaid {
		t.Errorf("no ERROR naming the snappy batch of %s/1 (%v), or no WARN naming the record at offset %d (%v):\n%s",
			two, snappySaid, bigAt, bigSaid, c.stderr)
	}
	for _, k := range kafkaReport(t, c.statusAddr(t)).Kafka {
		if k.Records["refused"] != 1 || k.BatchErrors != 1 || k.Records["accepted"] != int64(len(want)) {
			t.Errorf("/status: records %v, batch errors %d; want %d accepted, 1 refused, 1 batch error", k.Records, k.BatchErrors, len(want))
		}
	}
	pos := map[string]int{}
	for i, g := range got {
		pos[g] = i
	}
	for at, ids := range byTP {
		for i := 1; i < len(ids); i++ {
			if pos[ids[i]] < pos[ids[i-1]] {
				t.Fatalf("%s[%d]: %s relayed before %s", at.topic, at.partition, ids[i], ids[i-1])
			}
		}
	}
	assertNoSecret(t, "the log", c.stderr.String(), secrets(t, p)...)
}

var lostRE = regexp.MustCompile(`(?m)^.*level=WARN.*$`)

// TestKafkaLeaderMovesDropsTrim: on a three-broker cluster, leadership
// moves and connections are dropped while records are produced: each
// arrives once, in order. Then comet is stopped, records are produced and
// the oldest five of them trimmed away, as retention would: the restarted
// comet says in a WARNING that five offsets were lost and relays the
// rest, once each, to the same subscriber, though its first fetch answer
// ends in a partial batch, as Kafka's answers do at max_bytes.
func TestKafkaLeaderMovesDropsTrim(t *testing.T) {
	const topic = "gcn.classic.voevent.MOVES"
	p := startKPeer(t, "-brokers=3", "-sasl=oauthbearer", "-topics="+topic+":1")
	recv, bcast, db := freePort(t), freePort(t), t.TempDir()
	args := []string{"--status=tcp:0:interface=127.0.0.1"}
	c := startKafkaComet(t, recv, bcast, db, p, []string{p.url(topic)}, args...)
	sub := subscribeTo(t, c)
	pr := startKProducer(t, p, topic, "zstd", "moves", 30*time.Millisecond, 1)
	leader := func(to int) {
		p.post(t, "/move-leader", url.Values{"topic": {topic}, "partition": {"0"}, "to": {strconv.Itoa(to)}}, nil, nil)
	}
	steps := []func(){
		func() { leader(1) },
		func() { p.post(t, "/drop-connections", nil, nil, nil) },
		func() { leader(2) },
		func() { p.post(t, "/drop-connections", url.Values{"broker": {"2"}}, nil, nil) },
		func() { leader(0) },
		func() { leader(1); p.post(t, "/drop-connections", nil, nil, nil) },
	}
	for i, step := range steps {
		// Each fault comes once comet has relayed records past the last.
		waitReceived(t, sub, 15*(i+1), c)
		step()
	}
	waitReceived(t, sub, pr.count()+15, c)
	want := pr.finish()
	waitReceived(t, sub, len(want), c)
	time.Sleep(300 * time.Millisecond)
	checkOnce(t, sub.received(), want, true)
	st := p.stats(t)
	t.Logf("%d records through 4 leader moves and 3 drops; peer: %d connections, closes %v",
		len(want), st.Connections.Accepted, st.Connections.CloseReasons)

	// Stop comet once it has stored its position past every record.
	addr := c.statusAddr(t)
	key := topic + "/0"
	c.waitFor(t, "the next offset at the end of the log", func() bool { return nextOffsets(t, addr)[key] == int64(len(want)) })
	c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.waitExit(t); code != 0 {
		t.Fatalf("comet exited %d after SIGTERM:\n%s", code, c.stderr)
	}
	var kept []string
	for i := range 10 {
		id := kafkaIVORN("trim", i)
		p.produce(t, topic, 0, "zstd", kafkaEvent(t, id))
		if i >= 5 { // the first five are trimmed: never relayed
			kept = append(kept, id)
		}
	}
	p.post(t, "/trim", url.Values{"topic": {topic}, "partition": {"0"}, "before": {strconv.Itoa(len(want) + 5)}}, nil, nil)
	for i := range 5 {
		id := kafkaIVORN("after", i)
		p.produce(t, topic, 0, "zstd", kafkaEvent(t, id))
		kept = append(kept, id)
	}
	// The ten records left are ten batches: the answer that holds them
	// is cut in its last.
	p.post(t, "/truncate-fetch", url.Values{"count": {"1"}}, nil, nil)
	c2 := startKafkaComet(t, recv, bcast, db, p, []string{p.url(topic)}, args...)
	want = append(want, kept...)
	waitReceived(t, sub, len(want), c2)
	time.Sleep(300 * time.Millisecond)
	checkOnce(t, sub.received(), want, true)
	if left, ok := p.stats(t).PendingFaults["truncate-fetch"]; ok {
		t.Errorf("no fetch answer was cut (%v left): the partial batch was not tried", left)
	}
	var warned bool
	for _, line := range lostRE.FindAllString(c2.stderr.String(), -1) {
		if strings.Contains(line, topic) && regexp.MustCompile(`\b5\b`).MatchString(line) {
			warned = true
			t.Logf("comet: %s", line)
		}
	}
	if !warned {
		t.Errorf("no WARNING saying 5 offsets of %s were lost:\n%s", topic, c2.stderr)
	}
}

// TestKafkaKillNineMidStream: comet is killed with SIGKILL three times
// while records are produced continuously, and restarted each time on the
// same --eventdb and ports. "Exactly once downstream" is what a
// subscriber that keeps its journal position (the replay extension)
// sees: reconnecting to each restarted comet, it has received every
// record produced exactly once, in offset order, with no gap and no
// repeat; and comet's journal lists every record exactly once. Records
// read again after a kill (their offset not yet stored) are absorbed by
// the seen store.
func TestKafkaKillNineMidStream(t *testing.T) {
	const topic = "gcn.classic.voevent.KILL"
	p := startKPeer(t, "-brokers=1", "-sasl=oauthbearer", "-topics="+topic+":1")
	recv, bcast, db := freePort(t), freePort(t), t.TempDir()
	c := startKafkaComet(t, recv, bcast, db, p, []string{p.url(topic)})
	sub := subscribeTo(t, c)
	// Batches of sixty: a kill often comes in the middle of one.
	pr := startKProducer(t, p, topic, "zstd", "kill", 300*time.Millisecond, 60)
	runs := []*proc{c}
	for round := range 3 {
		// Kill as soon as a batch starts to come through.
		waitReceived(t, sub, len(sub.received())+1, c)
		for n := len(sub.received()); len(sub.received()) == n; {
			time.Sleep(time.Millisecond)
		}
		c.cmd.Process.Kill()
		<-c.exited
		n := pr.count()
		waitCount(t, "records produced while comet is down", n+20, pr.count)
		c = startKafkaComet(t, recv, bcast, db, p, []string{p.url(topic)})
		runs = append(runs, c)
		t.Logf("round %d: restarted with %d records produced, %d relayed", round, pr.count(), len(sub.received()))
	}
	waitReceived(t, sub, pr.count()+20, c)
	want := pr.finish()
	waitReceived(t, sub, len(want), c)
	time.Sleep(300 * time.Millisecond)
	checkOnce(t, sub.received(), want, true)

	code, out, errs := runJ(t, "--eventdb", db)
	if code != 0 {
		t.Fatalf("comet journal: exit %d: %s", code, errs)
	}
	inJournal := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		inJournal[f[len(f)-1]]++
	}
	for _, id := range want {
		if inJournal[id] != 1 {
			t.Errorf("%s is %d times in the journal", id, inJournal[id])
		}
	}
	if len(inJournal) != len(want) {
		t.Errorf("the journal holds %d events, %d produced", len(inJournal), len(want))
	}
	dups := 0
	for _, r := range runs {
		dups += strings.Count(r.stderr.String(), `msg="duplicate event: not relayed again"`)
	}
	t.Logf("records read again after a kill and absorbed by the seen store: %d", dups)
}

// TestKafkaFetchVersionZstd: zstd batches are refused to fetches below
// version 10 (error 76), as Kafka refuses them; comet gets them because
// it never asks below 10.
func TestKafkaFetchVersionZstd(t *testing.T) {
	const topic = "gcn.classic.voevent.ZSTD"
	p := startKPeer(t, "-brokers=1", "-sasl=oauthbearer", "-topics="+topic+":1")
	c := startKafkaComet(t, freePort(t), freePort(t), t.TempDir(), p, []string{p.url(topic)})
	sub := subscribeTo(t, c)
	var vals [][]byte
	var want []string
	for i := range 6 {
		want = append(want, kafkaIVORN("zstd", i))
		vals = append(vals, kafkaEvent(t, want[i]))
	}
	p.produce(t, topic, 0, "zstd", vals...)
	waitReceived(t, sub, len(want), c)
	checkOnce(t, sub.received(), want, true)
	st := p.stats(t)
	vs := fetchVersions(st)
	if len(vs) == 0 || vs[0] < 10 {
		t.Errorf("comet fetched with versions %v: zstd needs 10 or more", vs)
	}
	if st.ZstdRefusals != 0 {
		t.Errorf("comet was refused zstd data %d times", st.ZstdRefusals)
	}
	// The same records really are zstd: a version 9 fetch is refused.
	if code, out := p.tool(t, "probe", "fetch", "-topic", topic, "-version", "9", "-expect", "76"); code != 0 {
		t.Fatalf("probe fetch -version 9: exit %d, want error 76:\n%s", code, out)
	}
	if n := p.stats(t).ZstdRefusals; n != 1 {
		t.Errorf("zstd refusals after the probe: %d, want 1", n)
	}
	t.Logf("comet's Fetch versions %v", vs)
}

// TestKafkaTopicsSCRAM: "comet topics" against a Hopskotch-like
// cluster of three brokers (TLS, SCRAM-SHA-512) lists the topics with
// their partition counts; a wrong password is exit status 1 with one
// line, which holds neither password. (TestTopicsAgainstKafkapeer does
// the same for OAUTHBEARER.)
func TestKafkaTopicsSCRAM(t *testing.T) {
	p := startKPeer(t, "-brokers=3", "-sasl=scram-sha-512", "-topics=hop.test.a:1,hop.test.b:3,hop.test.c:2")
	cluster := "kafka://" + p.bootstrap[1]
	var out, errb bytes.Buffer
	if code := run([]string{"topics", "--tls-ca=" + p.ca(), cluster + "?auth=" + p.creds()}, &out, &errb); code != 0 {
		t.Fatalf("comet topics: exit %d: %s", code, errb.String())
	}
	if want := "hop.test.a 1\nhop.test.b 3\nhop.test.c 2\n"; out.String() != want {
		t.Errorf("comet topics printed %q, want %q", out.String(), want)
	}
	assertNoSecret(t, "comet topics' output", out.String()+errb.String(), secrets(t, p)...)

	b, err := os.ReadFile(p.creds())
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "not-the-password-at-all"
	bad := regexp.MustCompile(`(?m)^password=.*$`).ReplaceAll(b, []byte("password="+wrong))
	badFile := filepath.Join(t.TempDir(), "bad-credentials")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	code := run([]string{"topics", "--tls-ca=" + p.ca(), cluster + "?auth=" + badFile}, &out, &errb)
	msg := errb.String()
	if code != 1 || strings.Count(msg, "\n") != 1 || out.Len() != 0 {
		t.Errorf("comet topics with a wrong password: exit %d, stdout %q, stderr %q; want exit 1 and one line", code, out.String(), msg)
	}
	assertNoSecret(t, "comet topics' error", msg, append(secrets(t, p), wrong)...)
	t.Logf("wrong password: %s", strings.TrimSpace(msg))
}
