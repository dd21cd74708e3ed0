// Package voevent reads the documents a VOEvent broker receives, safely
// and in one pass; checks events the way Comet 3.1 checks an author's
// submission, without an XML Schema engine; and signs and verifies events
// with Ed25519 signatures carried in an XML comment.
//
// What is in it:
//
//   - Reading: [Parse] checks that a frame is a well-formed,
//     namespace-well-formed XML document within the limits [MaxDepth],
//     [MaxNodes], [MaxAttrs] and [MaxDocNodes], and builds its
//     [xpath.Document] in the same pass, in time linear in the frame's size
//     and the model's, whatever the content. The model can outgrow the
//     frame (every element has a namespace node for each prefix in scope):
//     MaxDocNodes bounds it. It keeps the bytes as they arrived and where
//     the root element lies in them ([Event]; [Event.Element] is the span
//     the seen store keys an event by). It fails with a [*SyntaxError].
//     [ParseRoot] does the same checks, limits included, and keeps only
//     the root element; [ParseRole] does them and returns only the root's
//     name and role, for the acks subscribers send.
//   - Validation: [Validate] applies VOEvent-v2.0.xsd or
//     VOEvent-v2.1-draft.xsd, the IVOA's schemas, as the root element's
//     namespace chooses ([Version], [Namespace], [Namespace21]), written
//     out by hand as tables (schema.go, schema21.go, schemaset.go) for one
//     validator (validate.go), with libxml2's lexical rules for the
//     built-in types (types.go), and the IVOID rule for ivorns ('?' may
//     also separate the local part in 2.1). Its verdicts equal those of
//     "xmllint --schema" with the chosen schema (libxml2 2.9.14) plus the
//     IVOID rule on a corpus of real packets (moved to the 2.1 namespace
//     for 2.1) and on tens of thousands of mutations of them: the
//     development tool testdata/voevent/agree compares the two. It fails
//     with an [*Error] naming the first problem and its line.
//   - Identifiers: [ValidIVOID] checks a broker's --local-ivo,
//     [ValidIVORN] an event's ivorn; [TestEvent] makes the broker's test
//     event.
//   - Signing (signature.go, signature_key.go): a signature is one comment
//     after the root element, "voevent-signature v=1 alg=ed25519 key=KEY
//     sig=SIG", over exactly the bytes of [Event.Element], so it survives
//     relays that forward the bytes, Comet's included. [Sign] and
//     [SignatureComment] add one; [ParseSignatures] reads them, at most
//     [MaxSignatures], failing with [ErrMalformedSignature];
//     [Signature.Verify] checks one. [LoadSigningKey], [ParseSigningKey]
//     and [MarshalSigningKey] read and write PKCS #8 Ed25519 keys.
//     [EncodingProblem] says why an event not read as UTF-8 can carry no
//     valid signature: its declaration, which is not signed, would decide
//     how the signed bytes read.
//   - Trust (trust.go, trust_policy.go): a [Trust] is a parsed trust file
//     ([LoadTrust], [ParseTrust]; one "IVORN-PREFIX ed25519:KEY" a line,
//     [TrustedKey] writes one, [ValidTrustPrefix] checks a prefix) saying
//     which keys may sign under which ivorn prefixes ([Covers]).
//     [Trust.Check] gives a [Verdict] with a [SignatureOutcome]. A
//     [Policy] is a broker's rule: events under a listed prefix, or every
//     event with signed-only, must be validly signed; its trust file can be
//     replaced while events are checked ([Policy.SetTrust]).
//   - Messages: [Clip] and [ClipBytes] cut what a peer sent to about 80
//     bytes for quoting in reasons and logs.
//
// No message of Parse, ParseRoot or Validate is longer than 512 bytes.
// Signature checks cost bounded work whatever the event carries: at most
// MaxSignatures comments are parsed, their lengths are checked before
// decoding, and only signatures by a key trusted for the event's ivorn are
// verified.
//
// Parse refuses some documents libxml2 reads, on purpose: a DOCTYPE (so
// no entity is ever declared or expanded), entity references other than
// the five predefined ones, an empty prefix declaration (xmlns:p=""),
// two attributes with one expanded name, XML 1.1, encodings other than
// UTF-8, US-ASCII and ISO-8859-1 (UTF-16 included), and documents over
// the limits. Every other document libxml2 finds not well-formed, Parse
// refuses too.
package voevent
