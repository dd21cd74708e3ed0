// Package vtp speaks the VOEvent Transport Protocol (VTP): length-prefixed
// XML frames over TCP, the Transport messages (ack, nak, iamalive,
// authenticate), and the three connection roles of a broker: receiving
// from authors, broadcasting to subscribers, and subscribing to remote
// brokers. It is the broker of comet, a drop-in replacement for Comet
// 3.1, and its one extension of VTP, replay from a journal, is described
// below with its wire format.
//
// Protocol flow:
//
//	author    → broker : VOEvent            broker → author     : ack | nak
//	broker    → subscr : authenticate       subscr → broker     : authenticate (+ filters)
//	broker    → subscr : VOEvent            subscr → broker     : ack | nak
//	broker    → subscr : iamalive (60 s)    subscr → broker     : iamalive
//
// The package provides:
//
// Frames: [ReadFrame] reads one message, its 4-byte big-endian length
// checked against a limit before anything is allocated
// ([ErrFrameTooLarge], [FrameTooLargeError]); [WriteFrame] and [Frame]
// write one.
//
// Transport messages: [Ack], [Nak], [IAmAlive], [IAmAliveResponse],
// [Authenticate] and [AuthenticateResponse] build them; [ParseTransport]
// reads one, whatever spelling of the Transport namespace it uses.
//
// The broker: [New] makes a [Broker] from a [Config]. The author role
// ([Broker.ServeAuthors]) reads events and answers each with ack or nak,
// after validation (Config.Validate), the signature policy
// (Config.Signatures) and the seen store (Config.Seen), which keeps an
// event from being relayed twice. The subscriber role
// ([Broker.ServeSubscribers]) relays every accepted event to every
// subscriber whose XPath filters accept it; [Broker.Broadcast] and
// [Broker.SendTestEvents] relay an event of the caller's. The remote role ([Broker.Subscribe]) subscribes to another
// broker and relays what it sends, acknowledging everything, with
// Comet's reconnection backoff. A spool directory ([Broker.OpenSpool],
// [Spool]) is a local author: every file put in it is submitted as an
// event from the author port is. A source outside the package (the Kafka
// consumer) submits through an [Intake] ([Broker.NewIntake]), by the
// author's rules too. [Broker.Snapshot] reports the broker's
// state and counters, [Broker.Shutdown] stops it.
//
// Extensions, each chosen in Config when the broker starts and absent
// when left out: VTP over TLS ([TLS], [Certs], [Broker.ServeAuthorsTLS],
// [Broker.ServeSubscribersTLS], a remote named "tls:host:port"), an
// author with a verified client certificate being held to the ivo://
// identity it carries;
// signature checking (Config.Signatures); and the journal ([Journal],
// [Broker.Journaled], [Replay]), which replays to a subscriber what it
// missed, using the wire format below.
//
// Limits, each keeping one peer from costing the others: a frame is at
// most Config.MaxFrame ([DefaultMaxFrame], 1 MiB; Comet 3.1 refuses
// frames over 99,999 bytes); a subscriber is dropped with
// [MaxOutstanding] events unacknowledged at an iamalive tick, with
// Config.QueueLen messages or [MaxPendingBytes] waiting to be written,
// or when a write takes longer than Timers.WriteTimeout; a subscriber's
// filters are bounded in number and size ([DefaultMaxFilters],
// [DefaultMaxFilterBytes]) and share one work budget per event;
// connections are bounded in all and per address ([DefaultMaxConns],
// [DefaultMaxConnsPerAddr]), and ports admit only their [Whitelist];
// [Timers] are Comet 3.1's ([DefaultTimers]); replays are bounded by
// [Replay]. Subscribers are written to without blocking the event's
// sender: a slow or dead subscriber delays nobody else.
//
// # The replay extension
//
// A broker with a journal gives every event it journals a sequence
// number. A subscriber that records the last one it received can ask,
// when it connects again, for what it missed. Everything the extension
// sends is ordinary VTP Transport messages carrying <Param> elements in
// their <Meta>, and only to a subscriber that asked: a plain VTP
// subscriber (Comet 3.1, pygcn) gets byte for byte what it got before.
// The broker does not advertise the journal in its authenticate, since
// that would change the bytes every plain subscriber receives; a
// subscriber asks instead, and a broker that does not know the extension
// ignores the question, its extra parameters being none of the
// xpath-filter ones it reads. comet's own remote subscriptions
// ([Broker.Subscribe]) ask whenever the broker has a journal.
//
// One difference in timing only: a broker with a journal sends its first
// event to a new subscriber once the subscriber has answered the
// authenticate, or after 1 s without an answer, so that a position can be
// asked for before any event goes out. pygcn never answers an
// authenticate, so a pygcn client gets an event that arrives in its first
// second connected up to a second late.
//
// Parameters, each <Param name="NAME" value="VALUE"/>:
//
//	journal          (version 1) a journal's identity: lowercase hexadecimal,
//	                 at most 64 characters (comet's have 32); "" for none yet
//	journal-seq      (version 1) a position: a decimal sequence number of at
//	                 most 20 digits, "every event of the journal up to here"
//	journal-next     (version 1) a decimal sequence number: "the next event
//	                 frame is this event of the journal"
//	journal-refused  (version 2) why a replay was refused or stopped: a
//	                 lowercase word of at most 32 characters
//
// Version 1, positions:
//
//   - The broker sends authenticate, as in plain VTP.
//   - The subscriber answers with authenticate, adding after any
//     xpath-filter parameters journal=ID and journal-seq=N ([AuthenticateResponseAt]),
//     meaning "I have every event of journal ID up to N". A subscriber
//     with no position yet sends an empty ID and 0. Only the first
//     authenticate response of a connection counts.
//   - If ID is the broker's journal and N is no more than its last
//     sequence number, the broker sends every event it holds after N that
//     passes the subscriber's filters and the signature policy in force,
//     oldest first, then the live events, with no gap and no duplicate
//     between the two. If ID is another journal's (the broker's journal
//     was recreated, or the position was learned elsewhere), it sends
//     everything it holds. If ID is empty, or the request is malformed (a
//     bad identity, a number that is not decimal or does not fit, a
//     parameter given twice, journal-seq without journal), or N is beyond
//     its journal, it sends no replay, logs one line with the reason, and
//     goes on with live events from now. A request for more than the
//     journal holds (older events trimmed) gets what it holds.
//   - From then on, to that subscriber only, the broker sends before every
//     journaled event an iamalive carrying journal=ID and journal-next=S
//     ([PositionMarker]): "the next event frame is event S of journal
//     ID". It needs no answer.
//   - An iamalive carrying journal=ID and journal-seq=S means "every
//     event of journal ID up to S that passes your filters has been sent
//     to you". The broker sends one once it has taken the request, after
//     the replay if there is one, and as its periodic iamalive probe,
//     which is answered as plain VTP's is.
//   - A subscriber's position is the journal-seq of the last such
//     iamalive, or S once it has received and recorded the event after a
//     journal-next of S ([ParsePosition] reads both). The broker's own
//     periodic test event is not journaled: it comes with no journal-next
//     before it and does not move the position.
//   - During a replay at most 5 replayed events (half [MaxOutstanding])
//     wait for their ack and the iamalive probes go on; a subscriber that
//     leaves them unacknowledged for a whole iamalive period is dropped,
//     and resumes from its position on its next connection.
//
// Version 2, refusals: when the broker does not serve a request, or stops
// a replay, it says why with an iamalive carrying journal-refused=REASON
// ([RefusalMarker], [ParseRefusal]), which needs no answer:
//
//	busy         Replay.Max replays are running: ask again later
//	late         the request came after live events had started going to
//	             the subscriber (more than 1 s after the authenticate)
//	budget       the replay examined Replay.Budget bytes of journal; this
//	             iamalive also carries journal and journal-seq, the
//	             position reached
//	not-allowed  Replay.Who excludes this subscriber
//
// After every reason but not-allowed the broker closes the connection,
// once the subscriber has read the refusal or after 5 s, and the
// subscriber asks again on its next connection from its position (for
// budget, the one carried). After not-allowed it serves the subscriber
// as a plain one: live events, no markers, so its position stays where
// it was and nothing is skipped when it is later allowed. A reason a
// subscriber does not know is to be taken as a refusal that keeps the
// position. A subscriber that knows only version 1 sees an iamalive and
// the connection closing, and reconnects from its position: it loses
// nothing either. The broker never falls back silently to live events
// after a refusal that could make a position jump over a gap.
package vtp
