//! The small XML that WeCom callbacks use: `<xml>` with flat child elements whose text is plain
//! or CDATA. A purpose-made reader (rather than a general XML crate) because the format is this
//! flat and fixed: it reads exactly that, decodes the five predefined entities and numeric
//! references, steps over nested elements (some WeCom events have them), and refuses anything
//! else — DOCTYPEs and entity declarations included, so no entity expansion can be smuggled in.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub &'static str);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed XML: {}", self.0)
    }
}

/// The root's child elements by name (the first of a repeated name wins), text decoded.
#[derive(Debug, Default, Clone)]
pub struct Flat {
    fields: HashMap<String, String>,
}

impl Flat {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// An element: its name, its own text, and its children's names and texts.
type Element<'a> = (&'a str, String, Vec<(&'a str, String)>);

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    /// Moves past the next `end`, returning what came before it.
    fn until(&mut self, end: &str, what: &'static str) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        let at = rest.find(end).ok_or(XmlError(what))?;
        self.pos += at + end.len();
        Ok(&rest[..at])
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        let len =
            rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))).unwrap_or(rest.len());
        if len == 0 {
            return Err(XmlError("expected an element name"));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    /// Prolog items before or after the root: whitespace, `<?…?>`, comments.
    fn misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            if self.eat("<?") {
                self.until("?>", "unterminated processing instruction")?;
            } else if self.eat("<!--") {
                self.until("-->", "unterminated comment")?;
            } else if self.rest().starts_with("<!") {
                return Err(XmlError("DOCTYPE and declarations are not accepted"));
            } else {
                return Ok(());
            }
        }
    }

    /// One element; returns its name and its own text (children's text is not included).
    fn element(&mut self, depth: usize) -> Result<Element<'a>, XmlError> {
        if depth > 8 {
            return Err(XmlError("nested too deeply"));
        }
        if !self.eat("<") {
            return Err(XmlError("expected an element"));
        }
        let name = self.name()?;
        self.skip_ws();
        // Attributes are not part of the format; refuse rather than misread them.
        if self.eat("/>") {
            return Ok((name, String::new(), Vec::new()));
        }
        if !self.eat(">") {
            return Err(XmlError("attributes are not accepted"));
        }
        let mut text = String::new();
        let mut children = Vec::new();
        loop {
            if self.eat("<![CDATA[") {
                text.push_str(self.until("]]>", "unterminated CDATA")?);
            } else if self.eat("<!--") {
                self.until("-->", "unterminated comment")?;
            } else if self.eat("</") {
                let close = self.name()?;
                self.skip_ws();
                if close != name || !self.eat(">") {
                    return Err(XmlError("mismatched closing tag"));
                }
                return Ok((name, text, children));
            } else if self.rest().starts_with('<') {
                let (child, child_text, _) = self.element(depth + 1)?;
                children.push((child, child_text));
            } else if self.rest().is_empty() {
                return Err(XmlError("unexpected end"));
            } else {
                let rest = self.rest();
                let len = rest.find('<').unwrap_or(rest.len());
                text.push_str(&decode_entities(&rest[..len])?);
                self.pos += len;
            }
        }
    }
}

fn decode_entities(raw: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').filter(|i| *i <= 10).ok_or(XmlError("bad entity reference"))?;
        let entity = &after[..semi];
        let ch = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).filter(|c| *c != '\0').ok_or(XmlError("unknown entity"))?
            }
        };
        out.push(ch);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads `<xml>…</xml>` into its child elements' texts.
pub fn parse_flat(doc: &str) -> Result<Flat, XmlError> {
    let mut cur = Cursor { s: doc.strip_prefix('\u{feff}').unwrap_or(doc), pos: 0 };
    cur.misc()?;
    let (_, _, children) = cur.element(0)?;
    cur.misc()?;
    if !cur.rest().is_empty() {
        return Err(XmlError("content after the root element"));
    }
    let mut fields = HashMap::new();
    for (name, text) in children {
        fields.entry(name.to_string()).or_insert(text);
    }
    Ok(Flat { fields })
}

/// Text as one or more CDATA sections (a `]]>` inside is split across two sections).
pub fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wecom_envelopes_and_messages() {
        let doc = "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA[Kl7k+/=]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>";
        let f = parse_flat(doc).unwrap();
        assert_eq!(f.get("Encrypt"), Some("Kl7k+/="));
        assert_eq!(f.get("AgentID"), Some("1000002"));
        let msg =
            "<?xml version=\"1.0\"?><xml><Content>a &lt;b&gt; &amp; &#x4F60;&#22909;</Content><MsgId>1</MsgId><Empty/>\
                   <SendPicsInfo><Count>1</Count></SendPicsInfo></xml>";
        let f = parse_flat(msg).unwrap();
        assert_eq!(f.get("Content"), Some("a <b> & 你好"));
        assert_eq!(f.get("Empty"), Some(""));
        assert_eq!(f.get("Count"), None, "only the root's children");
    }

    #[test]
    fn refuses_what_is_not_the_format() {
        for bad in [
            "",
            "<xml>",
            "<xml><a>1</b></xml>",
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><xml><a>&e;</a></xml>",
            "<xml><a x=\"1\">1</a></xml>",
            "<xml><a>&unknown;</a></xml>",
            "<xml><a>&#0;</a></xml>",
            "<xml></xml><xml></xml>",
            "<xml><a><![CDATA[open</a></xml>",
        ] {
            assert!(parse_flat(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cdata_survives_its_terminator() {
        let text = "x]]>y";
        let doc = format!("<xml><C>{}</C></xml>", cdata(text));
        assert_eq!(parse_flat(&doc).unwrap().get("C"), Some(text));
    }
}
