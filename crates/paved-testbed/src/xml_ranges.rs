//! A minimal, targeted XML reader for the provisioning model: the elements of an
//! AWS query-protocol answer as byte ranges of the original text, with their
//! parents, so that one element's text (a `<state>` or `<DBInstanceStatus>`
//! inside the right item) can be replaced without touching the rest.
//!
//! It is not a general XML parser (the crate has none, and needs none): it knows
//! open, close and self-closing tags, and skips the XML declaration, processing
//! instructions, comments, `<!DOCTYPE>` and CDATA sections. Attributes are not
//! read, entities are not decoded (AWS identifiers and statuses have none), and
//! namespace prefixes are part of the name. Malformed input (a close tag that
//! does not match, an unclosed tag) gives `None`: the caller then leaves the
//! answer as it is.

use std::ops::Range;

/// One element of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// The tag name, with any namespace prefix.
    pub(crate) name: String,
    /// From the `<` of the open tag to the `>` of the close tag (both included).
    pub(crate) outer: Range<usize>,
    /// Between the open and the close tag (empty for `<a/>`).
    pub(crate) inner: Range<usize>,
    /// Index of the enclosing element in [`Document::nodes`].
    pub(crate) parent: Option<usize>,
}

/// Every element of a document, in document order of their open tags.
#[derive(Clone, Debug)]
pub(crate) struct Document<'a> {
    text: &'a str,
    nodes: Vec<Node>,
}

impl<'a> Document<'a> {
    /// Reads `text`; `None` when it is not well-formed enough to trust.
    pub(crate) fn parse(text: &'a str) -> Option<Self> {
        let mut nodes: Vec<Node> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        let mut i = 0;
        while let Some(offset) = text[i..].find('<') {
            let start = i + offset;
            let rest = &text[start..];
            if rest.starts_with("<!--") {
                i = start + rest.find("-->")? + 3;
                continue;
            }
            if rest.starts_with("<![CDATA[") {
                i = start + rest.find("]]>")? + 3;
                continue;
            }
            if rest.starts_with("<?") || rest.starts_with("<!") {
                i = start + rest.find('>')? + 1;
                continue;
            }
            let end = start + rest.find('>')?;
            let tag = &text[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                let index = open.pop()?;
                let node = &mut nodes[index];
                if node.name != name.trim() {
                    return None;
                }
                node.inner.end = start;
                node.outer.end = end + 1;
            } else {
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let name_end = tag
                    .find(|c: char| c.is_ascii_whitespace())
                    .unwrap_or(tag.len());
                let name = &tag[..name_end];
                if name.is_empty() {
                    return None;
                }
                nodes.push(Node {
                    name: name.to_string(),
                    outer: start..end + 1,
                    inner: end + 1..end + 1,
                    parent: open.last().copied(),
                });
                if !self_closing {
                    open.push(nodes.len() - 1);
                }
            }
            i = end + 1;
        }
        if !open.is_empty() {
            return None;
        }
        Some(Self { text, nodes })
    }

    /// The elements.
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Indexes of the `item` elements whose parent is a `container` element.
    pub(crate) fn items(&self, container: &str, item: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].name == item
                    && self.nodes[i]
                        .parent
                        .is_some_and(|p| self.nodes[p].name == container)
            })
            .collect()
    }

    /// Indexes of the `container` elements.
    pub(crate) fn named(&self, name: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].name == name)
            .collect()
    }

    /// The first child element `name` of element `parent`.
    pub(crate) fn child(&self, parent: usize, name: &str) -> Option<usize> {
        (parent + 1..self.nodes.len())
            .find(|&i| self.nodes[i].parent == Some(parent) && self.nodes[i].name == name)
    }

    /// The text between an element's tags, trimmed.
    pub(crate) fn text(&self, node: usize) -> &'a str {
        self.text[self.nodes[node].inner.clone()].trim()
    }

    /// The whole element, tags included.
    pub(crate) fn outer(&self, node: usize) -> &'a str {
        &self.text[self.nodes[node].outer.clone()]
    }
}

/// `text` with each range replaced by its string. Ranges must not overlap.
pub(crate) fn splice(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, replacement) in edits {
        if range.start < at {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeNatGatewaysResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r1</requestId>
  <!-- a <comment> -->
  <natGatewaySet>
    <item>
      <natGatewayAddressSet><item><allocationId>eipalloc-1</allocationId><state>x</state></item></natGatewayAddressSet>
      <natGatewayId>nat-1</natGatewayId>
      <state>available</state>
      <tagSet/>
    </item>
    <item><natGatewayId>nat-2</natGatewayId><state>available</state></item>
  </natGatewaySet>
</DescribeNatGatewaysResponse>"#;

    #[test]
    fn items_children_and_text() {
        let doc = Document::parse(NAT).expect("parses");
        let items = doc.items("natGatewaySet", "item");
        assert_eq!(
            items.len(),
            2,
            "nested address items are not top-level items"
        );
        let id = doc.child(items[0], "natGatewayId").expect("id");
        assert_eq!(doc.text(id), "nat-1");
        let state = doc.child(items[0], "state").expect("state");
        assert_eq!(
            doc.text(state),
            "available",
            "the item's own state, not the address's"
        );
        let second = doc.child(items[1], "natGatewayId").expect("id");
        assert_eq!(doc.text(second), "nat-2");
        assert!(doc.child(items[1], "tagSet").is_none());
        assert!(doc.outer(items[1]).starts_with("<item><natGatewayId>nat-2"));
        assert_eq!(doc.named("tagSet").len(), 1);
    }

    #[test]
    fn splice_replaces_ranges() {
        let doc = Document::parse(NAT).expect("parses");
        let items = doc.items("natGatewaySet", "item");
        let state = doc.child(items[1], "state").expect("state");
        let out = splice(
            NAT,
            vec![(doc.nodes()[state].inner.clone(), "pending".to_string())],
        );
        assert!(out.contains("<natGatewayId>nat-2</natGatewayId><state>pending</state>"));
        assert!(out.contains("<natGatewayId>nat-1</natGatewayId>\n      <state>available</state>"));
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(Document::parse("<a><b></a>").is_none());
        assert!(Document::parse("<a>").is_none());
        assert!(Document::parse("<a></b>").is_none());
        assert!(Document::parse("<a><!-- never closed").is_none());
        assert!(Document::parse("not xml at all").is_some_and(|d| d.nodes().is_empty()));
        let cdata = Document::parse("<a><![CDATA[<b>]]></a>").expect("parses");
        assert_eq!(cdata.nodes().len(), 1);
    }
}
