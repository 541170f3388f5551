//! Field checks shared by every resource. Each check names the field it failed on, so a client
//! can point at it; `finish` turns the collected failures into one 422.

use crate::error::{ApiError, Code, FieldError};

#[derive(Debug, Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

pub const MAX_SHORT_TEXT: usize = 200;

/// The characters that make text blank: Unicode White_Space plus the few that JSON Schema's and
/// Python's `\s` add (U+001C–U+001F, U+FEFF). Listed explicitly so that this check and the
/// pattern published in the OpenAPI document (`text_pattern`) agree exactly.
const BLANK_RANGES: &[(char, char)] = &[
    ('\u{0009}', '\u{000D}'),
    ('\u{001C}', '\u{0020}'),
    ('\u{0085}', '\u{0085}'),
    ('\u{00A0}', '\u{00A0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200A}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{FEFF}', '\u{FEFF}'),
];

pub fn is_blank_char(c: char) -> bool {
    BLANK_RANGES.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
}

/// The regular expression (ECMA-262, as JSON Schema uses) for text `Check::text` accepts: no NUL,
/// and at least one character that is not blank.
pub fn text_pattern() -> String {
    let esc = |c: char| format!("\\u{:04x}", c as u32);
    let class: String = BLANK_RANGES
        .iter()
        .map(|(lo, hi)| if lo == hi { esc(*lo) } else { format!("{}-{}", esc(*lo), esc(*hi)) })
        .collect();
    format!("^[^\\u0000]*[^\\u0000{class}][^\\u0000]*$")
}
pub const MAX_LONG_TEXT: usize = 10_000;

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Required text of `min..=max` characters; not blank; no NUL (Postgres rejects it).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let chars = value.chars().count();
        if value.contains('\0') {
            self.add(field, "must not contain NUL characters");
        } else if min > 0 && value.chars().all(is_blank_char) {
            self.add(field, "must not be empty or blank");
        } else if chars < min || chars > max {
            self.add(field, format!("must be {min} to {max} characters (got {chars})"));
        }
    }

    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            self.text(field, v, 1, max);
        }
    }

    /// A list of short labels (territories, industries, product lines): each 1–100 characters,
    /// at most `max_items`, no duplicates.
    pub fn labels(&mut self, field: &str, items: &[String], min_items: usize, max_items: usize) {
        if items.len() < min_items || items.len() > max_items {
            self.add(field, format!("must have {min_items} to {max_items} items (got {})", items.len()));
            return;
        }
        for (i, item) in items.iter().enumerate() {
            let name = format!("{field}[{i}]");
            self.text(&name, item, 1, 100);
            if items[..i].contains(item) {
                self.add(name, "is a duplicate");
            }
        }
    }

    pub fn email(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(field, v, 3, 254);
            let valid = v.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            }) && !v.chars().any(char::is_whitespace);
            if !valid {
                self.add(field, "must be an email address such as name@example.com");
            }
        }
    }

    pub fn phone(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(field, v, 3, 32);
            if !v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) || !v.chars().any(|c| c.is_ascii_digit()) {
                self.add(field, "must be a phone number: digits, spaces, + - ( )");
            }
        }
    }

    /// A platform user id (WeCom/DingTalk): 1–64 visible ASCII characters.
    pub fn userid(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value {
            if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_graphic()) {
                self.add(field, "must be 1 to 64 visible ASCII characters");
            }
        }
    }

    /// An optional integer within `min..=max` (basis points, money, counts).
    pub fn range(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(v) = value {
            if !(min..=max).contains(&v) {
                self.add(field, format!("must be between {min} and {max} (got {v})"));
            }
        }
    }

    /// A calendar date with a four-digit year, so that its stored text (`YYYY-MM-DD`) sorts as dates.
    pub fn date(&mut self, field: &str, value: Option<chrono::NaiveDate>) {
        use chrono::Datelike;
        if let Some(d) = value {
            if !(0..=9999).contains(&d.year()) {
                self.add(field, format!("must be a date with a four-digit year (got {d})"));
            }
        }
    }

    /// An absolute `http`/`https` URL with a host, at most 2000 characters (a web site, a source).
    pub fn web_url(&mut self, field: &str, value: Option<&str>) {
        let Some(v) = value else { return };
        self.text(field, v, 1, 2000);
        let ok = url::Url::parse(v)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
        if !ok || v.chars().any(char::is_whitespace) {
            self.add(field, "must be an absolute http(s) URL such as https://www.example.cn");
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }
}

/// Characters that render as nothing and would let two names look the same: zero-width space,
/// joiners, word joiner, soft hyphen, byte-order mark.
const INVISIBLE: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{00AD}', '\u{FEFF}'];

/// The form in which names that must be "unique ignoring case" are compared: Unicode NFKC (so
/// full-width `Ａ` is `A`, composed and decomposed `é` agree), lower case, invisible characters
/// removed and surrounding whitespace (any Unicode space, NBSP included) trimmed. The stored
/// name keeps what the user typed; only this key is compared.
pub fn comparison_key(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = text.nfkc().flat_map(char::to_lowercase).filter(|c| !INVISIBLE.contains(c)).collect();
    // Lower-casing can produce characters NFKC would write differently (e.g. `İ` → `i̇`).
    let folded: String = folded.nfkc().collect();
    folded.trim_matches(|c: char| c.is_whitespace() || is_blank_char(c)).to_string()
}

/// Checks an id given in a body or a query: 422 naming the field when it is not a UUID.
pub fn input_id(field: &str, raw: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::field(field, "must be a resource id (UUID)"))
}

/// Checks a path id. Our ids are UUIDs, so anything else names no resource: 404, like an
/// unknown id, with the malformed path field named in `errors`.
pub fn path_id(field: &str, raw: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(raw).map(|u| u.hyphenated().to_string()).map_err(|_| {
        let mut err = ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            Code::NotFound,
            format!("{field}: {raw:?} is not a resource id (ids are UUIDs)"),
        );
        err.errors.push(FieldError::new(field, "must be a resource id (UUID)"));
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bounds_count_characters_not_bytes() {
        let mut c = Check::new();
        c.text("name", &"渠".repeat(200), 1, 200);
        c.text("emoji", "🤝", 1, 1);
        assert!(c.is_ok());
        c.text("too_long", &"渠".repeat(201), 1, 200);
        c.text("blank", "   ", 1, 200);
        c.text("nul", "a\0b", 1, 200);
        let err = c.finish().unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["too_long", "blank", "nul"]);
    }

    #[test]
    fn blank_means_the_published_pattern() {
        assert_eq!(
            text_pattern(),
            "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000\\ufeff][^\\u0000]*$"
        );
        for blank in ["\u{feff}", "\u{1c}\u{1f}", " \u{3000}\t"] {
            let mut c = Check::new();
            c.text("f", blank, 1, 10);
            assert!(!c.is_ok(), "{blank:?} is blank");
        }
        let mut c = Check::new();
        c.text("f", "\u{200b}", 1, 10);
        assert!(c.is_ok(), "a zero-width space is not in the blank set");
    }

    #[test]
    fn labels_reject_duplicates_and_empty_items() {
        let mut c = Check::new();
        c.labels("territories", &["上海".into(), "".into(), "上海".into()], 0, 10);
        let err = c.finish().unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["territories[1]", "territories[2]"]);
    }

    #[test]
    fn email_and_phone_shapes() {
        let mut ok = Check::new();
        ok.email("email", Some("li.lei@example.cn"));
        ok.phone("phone", Some("+86 138-0000-0000"));
        assert!(ok.is_ok());
        for bad in ["no-at", "a@b", "a @b.cn", "@b.cn"] {
            let mut c = Check::new();
            c.email("email", Some(bad));
            assert!(!c.is_ok(), "{bad} should be rejected");
        }
        let mut c = Check::new();
        c.phone("phone", Some("call me"));
        assert!(!c.is_ok());
    }

    crate::text_enum! { Sample { SnakeCase => "snake_case", Other => "other" } }

    #[test]
    fn enum_schemas_publish_the_wire_text() {
        let schema = serde_json::to_value(<Sample as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["snake_case", "other"]));
        assert_eq!(serde_json::to_value(Sample::SnakeCase).unwrap(), "snake_case");
        assert_eq!(Sample::ALL.len(), 2);
        assert_eq!(Sample::from_db("other").unwrap(), Sample::Other);
    }

    #[test]
    fn look_alike_names_have_one_comparison_key() {
        let key = comparison_key;
        assert_eq!(key("A公司"), key("Ａ公司"), "full-width letters");
        assert_eq!(key("华东代理"), key("华东代理\u{00A0}"), "a trailing no-break space");
        assert_eq!(key("华东代理"), key("华东\u{200B}代理"), "a zero-width space");
        assert_eq!(key("café"), key("cafe\u{0301}"), "NFD against NFC");
        assert_eq!(key(" ACME "), key("acme"));
        assert_eq!(key("\u{3000}Acme\u{3000}"), key("acme"), "ideographic spaces around");
        assert_ne!(key("Acme"), key("Acme2"));
        assert_ne!(key("华东 代理"), key("华东代理"), "inner spaces are part of the name");
        assert_eq!(key("Ⅻ"), "xii", "compatibility forms");
    }

    #[test]
    fn path_ids_must_be_uuids() {
        assert!(path_id("id", "0192f0c4-3b9e-7c1a-8f00-000000000000").is_ok());
        let err = path_id("id", "1; DROP TABLE partners").unwrap_err();
        assert_eq!(err.status.as_u16(), 404);
        assert_eq!(err.errors[0].field, "id");
    }
}
