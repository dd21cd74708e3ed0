// Package voevent reads the documents a VOEvent broker receives, safely
// and in one pass, and checks events the way Comet 3.1 checks an author's
// submission, without an XML Schema engine.
//
//   - [Parse] checks that a frame is a well-formed, namespace-well-formed
//     XML document within the limits [MaxDepth], [MaxNodes], [MaxAttrs]
//     and [MaxDocNodes], and builds its [xpath.Document] in the same pass,
//     in time linear in the frame's size and the model's, whatever the
//     content. The model can outgrow the frame (every element has a
//     namespace node for each prefix in scope): MaxDocNodes bounds it.
//     It keeps the bytes as they arrived and where the root element lies
//     in them ([Event]). It fails with a [*SyntaxError]. [ParseRoot] does
//     the same checks, limits included, and keeps only the root element.
//   - [Validate] applies VOEvent-v2.0.xsd or VOEvent-v2.1-draft.xsd, as
//     the root element's namespace chooses ([Version]), written out by
//     hand as tables (schema.go, schema21.go) for one validator, with
//     libxml2's lexical rules for the built-in types (types.go), and the
//     IVOID rule for ivorns ('?' may also separate the local part in 2.1).
//     Its verdicts equal those of "xmllint --schema" with the chosen
//     schema (libxml2 2.9.14) plus the IVOID rule on the real packets of
//     ../shared/voevents (moved to the 2.1 namespace for 2.1) and on tens
//     of thousands of mutations of them (testdata/voevent/agree, -v21
//     for 2.1). It fails with an [*Error] naming the first problem and its
//     line.
//   - [ValidIVOID] and [ValidIVORN] check identifiers; [TestEvent] makes
//     the broker's test event.
//
// Error messages quote what the peer sent cut by [Clip] to about 80
// bytes, and no message of Parse, ParseRoot or Validate is longer than
// 512 bytes.
//
// Parse refuses some documents libxml2 reads, on purpose: a DOCTYPE (so
// no entity is ever declared or expanded), entity references other than
// the five predefined ones, an empty prefix declaration (xmlns:p=""),
// two attributes with one expanded name, XML 1.1, encodings other than
// UTF-8, US-ASCII and ISO-8859-1 (UTF-16 included), and documents over
// the limits. Every other document libxml2 finds not well-formed, Parse
// refuses too.
package voevent
