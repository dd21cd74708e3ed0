package kafka

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// topicPart names one partition of one topic.
type topicPart struct {
	topic     string
	partition int32
}

func (t topicPart) String() string { return t.topic + "/" + strconv.Itoa(int(t.partition)) }

// layout is what one Metadata answer says of the topics a source wants:
// where each partition's leader is, and which topics it named are not
// there (or not readable).
type layout struct {
	brokers map[int32]string // node id -> host:port
	leaders map[topicPart]int32
	// missing maps a topic named outright that the cluster did not list
	// to why, for one warning per topic.
	missing map[string]string
	// leaderless counts partitions without a leader just now.
	leaderless int
}

// validTopic reports whether name is a topic name Kafka accepts. Names
// from the cluster that are not are ignored, so that only such names
// reach logs, status pages and metric labels.
func validTopic(name string) bool {
	if name == "" || len(name) > 249 || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// wants reports whether a topic matches one of the source's topics: the
// same name, or a prefix given as PREFIX*.
func wants(topics []string, name string) bool {
	for _, t := range topics {
		if p, ok := strings.CutSuffix(t, "*"); ok {
			if strings.HasPrefix(name, p) {
				return true
			}
		} else if t == name {
			return true
		}
	}
	return false
}

// hasWildcard reports whether any topic is a prefix, which makes the
// source list every topic it can see.
func hasWildcard(topics []string) bool {
	for _, t := range topics {
		if strings.HasSuffix(t, "*") {
			return true
		}
	}
	return false
}

// metadata asks c where the partitions of topics are.
func metadata(ctx context.Context, c *conn, topics []string) (*layout, error) {
	req := metadataRequest{all: hasWildcard(topics)}
	if !req.all {
		req.topics = topics
	}
	body, err := c.roundTrip(ctx, req, 0)
	if err != nil {
		return nil, err
	}
	resp, err := decodeMetadataResponse(body)
	if err != nil {
		return nil, fmt.Errorf("kafka: %s: %w", c.addr, err)
	}
	l := &layout{brokers: map[int32]string{}, leaders: map[topicPart]int32{}, missing: map[string]string{}}
	for _, b := range resp.brokers {
		if b.port <= 0 || b.port > 65535 || b.host == "" {
			continue
		}
		l.brokers[b.nodeID] = net.JoinHostPort(b.host, strconv.Itoa(int(b.port)))
	}
	listed := map[string]bool{}
	for _, t := range resp.topics {
		if !validTopic(t.name) || t.internal || !wants(topics, t.name) {
			continue
		}
		if t.errorCode != 0 {
			l.missing[t.name] = ErrorCode(t.errorCode).String()
			continue
		}
		listed[t.name] = true
		for _, p := range t.partitions {
			if p.partition < 0 {
				continue
			}
			if _, ok := l.brokers[p.leader]; p.errorCode != 0 && p.errorCode != int16(ErrReplicaNotAvailable) || !ok {
				l.leaderless++
				continue
			}
			l.leaders[topicPart{t.name, p.partition}] = p.leader
		}
	}
	for _, t := range topics {
		if !strings.HasSuffix(t, "*") && !listed[t] && l.missing[t] == "" {
			l.missing[t] = "not listed by the cluster: it does not exist, or the credential may not see it"
		}
	}
	return l, nil
}

// ListTopics connects to cfg's cluster and lists the topics its
// credential can see, by name, with their partition counts; internal
// topics are left out. Its error says in one line what failed: the
// connection, TLS or authentication.
func ListTopics(ctx context.Context, cfg Config) ([]TopicInfo, error) {
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	c, err := dialBroker(ctx, cfg.Addr, cfg.TLS, auth, maxResponseFor(cfg))
	if err != nil {
		return nil, err
	}
	defer c.close()
	body, err := c.roundTrip(ctx, metadataRequest{all: true}, 0)
	if err != nil {
		return nil, err
	}
	resp, err := decodeMetadataResponse(body)
	if err != nil {
		return nil, fmt.Errorf("kafka: %s: %w", c.addr, err)
	}
	var out []TopicInfo
	for _, t := range resp.topics {
		if t.internal || t.errorCode != 0 || !validTopic(t.name) {
			continue
		}
		out = append(out, TopicInfo{Name: t.name, Partitions: len(t.partitions)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
