package classify

// tag is an element the fast path knows. Any other element name makes the
// fast path give up, because the HTML parser treats many of them specially.
type tag uint8

const (
	tagNone tag = iota
	tagA
	tagArticle
	tagAside
	tagB
	tagBlockquote
	tagBody
	tagBr
	tagButton
	tagCircle
	tagCode
	tagDd
	tagDiv
	tagDialog
	tagDl
	tagDt
	tagEm
	tagFont
	tagFooter
	tagForm
	tagG
	tagH1
	tagH2
	tagH3
	tagH4
	tagH5
	tagH6
	tagHead
	tagHeader
	tagHr
	tagHTML
	tagI
	tagImg
	tagInput
	tagLabel
	tagLi
	tagLink
	tagMain
	tagMeta
	tagNav
	tagOl
	tagP
	tagPath
	tagPolygon
	tagRect
	tagScript
	tagSection
	tagSmall
	tagSpan
	tagStrong
	tagStyle
	tagSvg
	tagTable
	tagTbody
	tagTd
	tagTh
	tagThead
	tagTitle
	tagTr
	tagU
	tagUl
	tagCount
)

// Tag properties, as the HTML parser (golang.org/x/net/html) sees them.
const (
	fVoid         = 1 << iota // no end tag, no children
	fPhrasing                 // allowed inside <p> and <h1>…<h6>
	fFormatting               // on the list of active formatting elements
	fHeading                  // h1…h6
	fRaw                      // script, style, title: text up to the end tag
	fSVG                      // allowed inside <svg>, where nothing else is
	fAdopt                    // special, no scope boundary: see startA
	fBlockEnd                 // its end tag closes what is above it: see closeBlock
	fPhrasingOnly             // p, h1…h6: only phrasing content inside
	fContext                  // svg, SVG children, table, thead, tbody, tr: own rules inside
	fCheck                    // its start tag needs the checks of allowed
)

var tagFlags = [tagCount]uint16{
	tagA: fPhrasing | fFormatting, tagArticle: fAdopt | fBlockEnd, tagAside: fAdopt | fBlockEnd,
	tagB: fPhrasing | fFormatting, tagBlockquote: fAdopt | fBlockEnd, tagBr: fVoid | fPhrasing,
	tagButton: fPhrasing | fBlockEnd, tagCircle: fSVG | fContext, tagCode: fPhrasing | fFormatting, tagDd: fAdopt,
	tagDiv: fAdopt | fBlockEnd, tagDialog: fBlockEnd, tagDl: fAdopt | fBlockEnd, tagDt: fAdopt,
	tagEm: fPhrasing | fFormatting, tagFont: fPhrasing | fFormatting, tagFooter: fAdopt | fBlockEnd,
	tagForm: fAdopt, tagG: fSVG | fContext, tagH1: fHeading | fAdopt | fPhrasingOnly,
	tagH2: fHeading | fAdopt | fPhrasingOnly, tagH3: fHeading | fAdopt | fPhrasingOnly,
	tagH4: fHeading | fAdopt | fPhrasingOnly, tagH5: fHeading | fAdopt | fPhrasingOnly,
	tagH6: fHeading | fAdopt | fPhrasingOnly, tagHeader: fAdopt | fBlockEnd, tagHr: fVoid,
	tagI: fPhrasing | fFormatting, tagImg: fVoid | fPhrasing, tagInput: fVoid | fPhrasing,
	tagLabel: fPhrasing, tagLi: fAdopt, tagLink: fVoid, tagMain: fAdopt | fBlockEnd,
	tagMeta: fVoid, tagNav: fAdopt | fBlockEnd, tagOl: fAdopt | fBlockEnd, tagP: fAdopt | fPhrasingOnly,
	tagPath: fSVG | fContext, tagPolygon: fSVG | fContext, tagRect: fSVG | fContext, tagScript: fRaw, tagSection: fAdopt | fBlockEnd,
	tagSmall: fPhrasing | fFormatting, tagSpan: fPhrasing, tagStrong: fPhrasing | fFormatting,
	tagStyle: fRaw, tagSvg: fPhrasing | fContext, tagTable: fContext, tagTitle: fRaw,
	tagThead: fContext, tagTbody: fContext, tagTr: fContext, tagTd: 0, tagTh: 0,
	tagU: fPhrasing | fFormatting, tagUl: fAdopt | fBlockEnd,
}

// phrasingOnly is 1 for p and h1…h6 (fPhrasingOnly), as a number to add.
var phrasingOnly [tagCount]int

func init() {
	for t, f := range tagFlags {
		if f&fPhrasingOnly != 0 {
			phrasingOnly[t] = 1
		}
	}
	// Start tags that need more than "insert here": see allowed.
	for _, t := range []tag{tagA, tagButton, tagForm, tagLi, tagDt, tagDd, tagThead, tagTbody, tagTr, tagTd, tagTh} {
		tagFlags[t] |= fCheck
	}
	for t := range tagFlags {
		if tagFlags[t]&(fFormatting|fRaw|fSVG) != 0 || t == int(tagSvg) || t == int(tagNone) {
			tagFlags[t] |= fCheck
		}
	}
}

// tagNames is indexed by tag.
var tagNames = [tagCount]string{
	tagA: "a", tagArticle: "article", tagAside: "aside", tagB: "b", tagBlockquote: "blockquote",
	tagBody: "body", tagBr: "br", tagButton: "button", tagCircle: "circle", tagCode: "code",
	tagDd: "dd", tagDiv: "div", tagDialog: "dialog", tagDl: "dl", tagDt: "dt", tagEm: "em",
	tagFont: "font", tagFooter: "footer", tagForm: "form", tagG: "g", tagH1: "h1", tagH2: "h2",
	tagH3: "h3", tagH4: "h4", tagH5: "h5", tagH6: "h6", tagHead: "head", tagHeader: "header",
	tagHr: "hr", tagHTML: "html", tagI: "i", tagImg: "img", tagInput: "input", tagLabel: "label",
	tagLi: "li", tagLink: "link", tagMain: "main", tagMeta: "meta", tagNav: "nav", tagOl: "ol",
	tagP: "p", tagPath: "path", tagPolygon: "polygon", tagRect: "rect", tagScript: "script",
	tagSection: "section", tagSmall: "small", tagSpan: "span", tagStrong: "strong",
	tagStyle: "style", tagSvg: "svg", tagTable: "table", tagTbody: "tbody", tagTd: "td",
	tagTh: "th", tagThead: "thead", tagTitle: "title", tagTr: "tr", tagU: "u", tagUl: "ul",
}

// tagHash is an open-addressing hash table from a packed name (see
// nameKey) to its tag; a lookup is one multiply and usually one probe.
var tagHash [256]struct {
	key uint64
	t   tag
}

func init() {
	for t := tagA; t < tagCount; t++ {
		k := nameKey([]byte(tagNames[t]))
		h := k * 0x9E3779B97F4A7C15 >> 56
		for tagHash[h].t != tagNone {
			h = (h + 1) & 255
		}
		tagHash[h].key, tagHash[h].t = k, t
	}
}

// nameKey packs a name of up to 7 bytes and its length into a uint64; the
// one longer name the table holds, "blockquote", gets its own key. Any
// other name gets 0, which is no tag's key.
func nameKey(name []byte) uint64 {
	n := len(name)
	if n == 0 || n > 7 {
		if string(name) == "blockquote" {
			return 1
		}
		return 0
	}
	k := uint64(n) << 56
	for i, c := range name {
		k |= uint64(c) << (8 * i)
	}
	return k
}

// lookupTag returns the tag named name (lower-case ASCII), or tagNone.
func lookupTag(name []byte) tag { return lookupKey(nameKey(name)) }

// readName reads a tag name starting at b[p] and returns its tag and the
// position after it, packing the key as it goes.
func readName(b []byte, p int) (tag, int) {
	s := p
	var k uint64
	for p < len(b) && byteClass[b[p]]&cNameEnd == 0 {
		if p-s < 7 {
			k |= uint64(b[p]) << (8 * (p - s))
		}
		p++
	}
	switch n := p - s; {
	case n == 10:
		return lookupTag(b[s:p]), p
	case n == 0 || n > 7:
		return tagNone, p
	default:
		return lookupKey(k | uint64(n)<<56), p
	}
}

func lookupKey(k uint64) tag {
	if k == 0 {
		return tagNone
	}
	for h := k * 0x9E3779B97F4A7C15 >> 56; ; h = (h + 1) & 255 {
		if e := &tagHash[h]; e.key == k || e.t == tagNone {
			return e.t
		}
	}
}
