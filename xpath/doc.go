// Package xpath is the XPath 1.0 evaluator for the filters VTP subscribers
// send, built to give the answers Comet gives with lxml (libxml2) and to
// survive filters written by a hostile subscriber.
//
// What is in it:
//
//   - The document model: [Document] and [Node], with [Kind] and [Name],
//     built once per event by voevent's parser through a [Builder] and then
//     shared read-only by every filter. [XMLNamespace] is bound in every
//     document; [IsNameStart] and [IsNameChar] are the XML name rules the
//     parser and this package's lexer share, so any name a document can
//     hold can be written in a filter.
//   - The expression engine: [Compile] turns an expression into an
//     immutable [Expr] whose [Type] is known at compile time.
//     [Expr.Evaluate] returns a [Value]; [Expr.MatchesWithin] applies
//     Comet's filter semantics ([Value.Match]) on a document within a
//     [Budget], which one subscriber's filters share per event. Both run
//     from any number of goroutines at once.
//   - Errors: [*SyntaxError] from Compile, [ErrSemantic] for expressions
//     that parse but cannot be evaluated, [ErrTooExpensive] for an
//     evaluation that ran out of budget.
//   - Limits: [MaxExprLen], [MaxNesting], [WorkBase] and [WorkPerNode].
//
// # Language
//
// The whole of REC-xpath-19991116: the 13 axes, all node tests,
// predicates, abbreviations, unions, every operator with its precedence
// and left associativity, and the 27 core functions with the Recommendation's
// conversion and comparison rules (characters, not bytes; IEEE 754
// arithmetic with NaN, ±Infinity and -0). Filters have no variables and no
// namespace bindings, so every expression has a type known at compile
// time ([Expr.Type]), an unprefixed name test matches only elements in no
// namespace (on a normal packet //Param works and /VOEvent does not), and
// only the prefix xml, bound by definition, may be used.
//
// # Errors
//
// [Compile] returns a *[SyntaxError] with the byte offset of the problem.
// One that wraps [ErrSemantic] is grammatical but cannot be evaluated (a
// variable, a prefix other than xml, an unknown function, a wrong number
// of arguments, a node-set operation on something else): libxml2 compiles
// those and fails when it evaluates them, so the broker can treat them as
// filters that match nothing, as Comet effectively does, rather than as
// filters to ignore.
//
// # Limits
//
// Expressions are at most [MaxExprLen] bytes and nest at most [MaxNesting]
// deep. Evaluation is charged in units of one to six nanoseconds of work
// (node visits, predicates, comparisons, bytes of string scanned or
// built) against a budget of [WorkBase] + [WorkPerNode] per node of the
// document; an evaluation that exhausts it stops and returns
// [ErrTooExpensive]. The broker gives each subscriber one such budget per
// event for all its filters (see [Budget]). Realistic filters spend a few
// percent of the budget on a 1 MiB event and well under one percent on a
// 5 KB one; the most expensive expressions found, such as a fourfold
// nested count(//node()), are cut off after about a millisecond on a 5 KB
// event. Nothing is cached between evaluations and nothing is
// shared but the immutable document and expression.
//
// # Where libxml2 and the Recommendation differ
//
// Subscribers expect libxml2's answers, and XPath 1.0 is what libxml2
// implements, but libxml2 departs from the Recommendation in places. We
// match libxml2 only where Comet's users depend on it, and follow the Recommendation
// elsewhere; each choice has a test in deviation_test.go.
//
// Matching libxml2 (and Comet):
//
//   - Numbers may have an exponent, in literals and in number(): 1e3,
//     1.2e-09, as libxml2 accepts (real events carry such values). Like
//     libxml2 the exponent's digits are optional ("1e" is 1). Still NaN:
//     "+5", "Infinity", "0x10", "1_000", and a "." or "-" without digits.
//   - A filter matches when its value is boolean true, a non-zero number, a
//     non-empty string or a non-empty node-set, and NaN counts as a match
//     (Comet tests the Python value for truth): [Value.Match].
//   - xml:id attributes are IDs for id() (there is never a DTD), as libxml2
//     registers them; the first element to claim an ID keeps it.
//   - Namespace nodes come in libxml2's order: xml, then those inherited in
//     the parent's order, then the element's own declarations last to
//     first (the Recommendation leaves the order to the implementation). An element
//     that redeclares a prefix with the same URI keeps it in the inherited
//     position, where libxml2 moves it last.
//   - CDATA sections are merged into the surrounding text node, as lxml's
//     default parser (and the XPath data model) does; xmllint does so only
//     with --nocdata.
//
// Following the Recommendation where libxml2 does not:
//
//   - string() of a number is written in full decimal, never with an
//     exponent, with the shortest digits that round-trip: 1e21 is
//     "1000000000000000000000", 1 div 3 is "0.3333333333333333", -0 is
//     "0". libxml2 writes "1e+21", "0.333333333333333", "1e-06".
//   - Strings and literals convert to the nearest double; libxml2 can be an
//     ulp or more off (0.49999999999999994 becomes 0.5, 5e-324 becomes 0).
//   - number("-") is NaN; libxml2 gives -0 for "-", " -" and "-e1".
//   - The following axis of an attribute or namespace node includes its
//     element's descendants; libxml2 starts after the element's end.
//   - xmlns="" creates no namespace node; libxml2 gives the element one
//     with an empty URI.
//   - id() splits its argument at any XML white space; libxml2 finds
//     nothing when the argument starts with white space.
//   - "/ /" is a syntax error; libxml2 reads it as "/". So are "5 mod2"
//     and "1 and-1": a name is read whole (the longest-token rule of §3.7),
//     where libxml2 splits an operator name off its front.
//   - At the top level the context position and size are 1, so position()
//     and last() are 1; libxml2 as lxml calls it has neither, and reports
//     an error (no match in Comet).
//   - The expressions that wrap [ErrSemantic] are rejected at compile
//     time; libxml2 rejects them when evaluation reaches them, so under
//     Comet an and/or that never evaluates the bad operand still works.
//
// # Design
//
// The lexer (lex.go) resolves the ambiguities of REC-xpath §3.7 from the
// previous token. The parser (parse.go) is recursive descent, one method
// per precedence level; it type-checks and builds the evaluator's tree
// directly, with small rewrites: //name becomes one descendant step when
// its predicates do not depend on position, and @name compared with a
// value reads the attribute without building a node-set. Evaluation
// (eval.go, expr.go, axes.go, compare.go, funcs.go) walks that tree with a
// per-call state holding the budget and a pool of node buffers; node-sets
// are slices of node indexes in document order, which in the flat
// document is index order, so unions merge and de-duplication is a
// compare with the previous index.
package xpath
