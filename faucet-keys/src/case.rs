//! Key case conversion: `keys_case` (faucet-stream's word splitting, see
//! [`crate::words`]) and faucet's own `snake_case` (the `heck` crate's).

use heck::ToSnakeCase;

use crate::words::{join, words};

/// The case a key is converted to: a `keys_case` mode, or `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseMode {
    /// `keys_case: snake`: `first_name`.
    Snake,
    /// `keys_case: camel`: `firstName`.
    Camel,
    /// `keys_case: pascal`: `FirstName`.
    Pascal,
    /// `keys_case: kebab`: `first-name`.
    Kebab,
    /// `keys_case: screaming_snake`: `FIRST_NAME`.
    ScreamingSnake,
    /// `keys_case: dot`: `first.name`.
    Dot,
    /// faucet's own `snake_case` transform (not a faucet-stream one): snake
    /// case with the `heck` crate's word splitting, which also splits
    /// acronyms and digits (`HTTPServer` → `http_server`, `v2Api` → `v2_api`),
    /// where `keys_case: snake` keeps faucet-stream's (`httpserver`, `v2api`).
    SnakeCase,
}

impl CaseMode {
    /// Every mode, for tests and tables.
    pub const ALL: [CaseMode; 7] = [
        CaseMode::Snake,
        CaseMode::Camel,
        CaseMode::Pascal,
        CaseMode::Kebab,
        CaseMode::ScreamingSnake,
        CaseMode::Dot,
        CaseMode::SnakeCase,
    ];

    /// The transform's name in messages: `snake_case` or `keys_case`.
    pub fn transform_name(self) -> &'static str {
        match self {
            CaseMode::SnakeCase => "snake_case",
            _ => "keys_case",
        }
    }

    /// `key` converted to this case, or `None` when it stays as it is: already
    /// in this case, or with no word in it (`__`, `!@#`: no letter or digit),
    /// which faucet-stream keeps rather than making it empty.
    ///
    /// A key already in the target case is recognised by a cheap ASCII check,
    /// without allocating.
    pub fn convert(self, key: &str) -> Option<String> {
        if self.is_fixed_point(key) {
            return None;
        }
        let converted = match self {
            CaseMode::SnakeCase => key.to_snake_case(),
            mode => join(&words(key), mode),
        };
        (!converted.is_empty() && converted != key).then_some(converted)
    }

    /// A conservative ASCII check that `key` converts to itself: `true` only
    /// when it does; `false` may still be a fixed point (the conversion decides).
    fn is_fixed_point(self, key: &str) -> bool {
        let lower = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        match self {
            CaseMode::Snake | CaseMode::SnakeCase => separated_words(key, '_', lower),
            CaseMode::Kebab => separated_words(key, '-', lower),
            CaseMode::Dot => separated_words(key, '.', lower),
            CaseMode::ScreamingSnake => {
                separated_words(key, '_', |b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
            CaseMode::Camel => camel_words(key, false),
            CaseMode::Pascal => camel_words(key, true),
        }
    }
}

/// Non-empty runs of `word` bytes joined by single `separator`s, nothing else.
fn separated_words(key: &str, separator: char, word: impl Fn(u8) -> bool) -> bool {
    !key.is_empty() && key.split(separator).all(|w| !w.is_empty() && w.bytes().all(&word))
}

/// ASCII letters and digits, starting with an upper (Pascal) or lower (camel)
/// case letter, where every later uppercase letter follows a lowercase one, so
/// that each starts a word of its own.
fn camel_words(key: &str, upper_first: bool) -> bool {
    let bytes = key.as_bytes();
    let Some(&first) = bytes.first() else { return false };
    let first_ok = if upper_first { first.is_ascii_uppercase() } else { first.is_ascii_lowercase() };
    first_ok
        && bytes.iter().all(u8::is_ascii_alphanumeric)
        && bytes.windows(2).all(|pair| !pair[1].is_ascii_uppercase() || pair[0].is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS_CASE: [CaseMode; 6] = [
        CaseMode::Snake,
        CaseMode::Camel,
        CaseMode::Pascal,
        CaseMode::Kebab,
        CaseMode::ScreamingSnake,
        CaseMode::Dot,
    ];

    /// What `mode` makes of `key` (the key itself when it stays).
    fn conv(mode: CaseMode, key: &str) -> String {
        mode.convert(key).unwrap_or_else(|| key.to_owned())
    }

    /// `key` in snake, camel, pascal, kebab, screaming_snake and dot.
    fn all(key: &str, expected: [&str; 6]) {
        for (mode, want) in KEYS_CASE.into_iter().zip(expected) {
            assert_eq!(conv(mode, key), want, "{mode:?} of {key:?}");
        }
    }

    #[test]
    fn faucet_stream_reference_examples() {
        // (key, snake, camel) from faucet-stream 1.17's keys_case.
        let examples = [
            ("firstName", "first_name", "firstName"),
            ("First Name", "first_name", "firstName"),
            ("userID", "user_id", "userId"),
            ("XMLParser", "xmlparser", "xmlparser"),
            ("parseXMLDoc", "parse_xmldoc", "parseXmldoc"),
            ("getHTTPResponseCode", "get_httpresponse_code", "getHttpresponseCode"),
            ("v2Api", "v2api", "v2api"),
            ("address1City", "address1city", "address1city"),
            ("id_2", "id_2", "id2"),
            ("__private", "private", "private"),
            ("a.b", "a_b", "aB"),
            ("HTTP_Status", "http_status", "httpStatus"),
            ("!@#", "!@#", "!@#"),
        ];
        for (key, snake, camel) in examples {
            assert_eq!(conv(CaseMode::Snake, key), snake, "snake of {key:?}");
            assert_eq!(conv(CaseMode::Camel, key), camel, "camel of {key:?}");
        }
        all("First Name", ["first_name", "firstName", "FirstName", "first-name", "FIRST_NAME", "first.name"]);
        all("last-name", ["last_name", "lastName", "LastName", "last-name", "LAST_NAME", "last.name"]);
        all("camelCase", ["camel_case", "camelCase", "CamelCase", "camel-case", "CAMEL_CASE", "camel.case"]);
    }

    #[test]
    fn issue_keys_in_every_mode() {
        // A digit ends a lowercase run, so no split after it.
        all("a1B2c3", ["a1b2c3", "a1b2c3", "A1b2c3", "a1b2c3", "A1B2C3", "a1b2c3"]);
        // Uppercase runs stay one word.
        all(
            "camelCASEValue",
            [
                "camel_casevalue",
                "camelCasevalue",
                "CamelCasevalue",
                "camel-casevalue",
                "CAMEL_CASEVALUE",
                "camel.casevalue",
            ],
        );
        all(
            "getHTTPResponseCode",
            [
                "get_httpresponse_code",
                "getHttpresponseCode",
                "GetHttpresponseCode",
                "get-httpresponse-code",
                "GET_HTTPRESPONSE_CODE",
                "get.httpresponse.code",
            ],
        );
        // faucet's own `snake_case` splits them as heck does.
        assert_eq!(conv(CaseMode::SnakeCase, "getHTTPResponseCode"), "get_http_response_code");
        assert_eq!(conv(CaseMode::SnakeCase, "camelCASEValue"), "camel_case_value");
        assert_eq!(conv(CaseMode::SnakeCase, "a1B2c3"), "a1_b2c3");
        assert_eq!(conv(CaseMode::SnakeCase, "HTTPServer"), "http_server");
        assert_eq!(conv(CaseMode::SnakeCase, "v2Api"), "v2_api");
        assert_eq!(conv(CaseMode::Snake, "v2Api"), "v2api");
        assert_eq!(conv(CaseMode::SnakeCase, "!@#"), "!@#");
    }

    #[test]
    fn every_symbol_is_a_boundary_and_dropped() {
        all("a  b--c__d..e", ["a_b_c_d_e", "aBCDE", "ABCDE", "a-b-c-d-e", "A_B_C_D_E", "a.b.c.d.e"]);
        all("price ($)", ["price", "price", "Price", "price", "PRICE", "price"]);
        all("_", ["_", "_", "_", "_", "_", "_"]);
        all("", ["", "", "", "", "", ""]);
        all("x", ["x", "x", "X", "x", "X", "x"]);
    }

    #[test]
    fn unicode_letters_follow_their_case() {
        all(
            "prénomÉlève",
            ["prénom_élève", "prénomÉlève", "PrénomÉlève", "prénom-élève", "PRÉNOM_ÉLÈVE", "prénom.élève"],
        );
        // Uppercasing may lengthen a word (ß → SS).
        all(
            "straßeName",
            ["straße_name", "straßeName", "StraßeName", "straße-name", "STRASSE_NAME", "straße.name"],
        );
        // Caseless letters neither split nor open a lowercase run.
        all("日本語Key", ["日本語key", "日本語key", "日本語key", "日本語key", "日本語KEY", "日本語key"]);
        all("名前 番号", ["名前_番号", "名前番号", "名前番号", "名前-番号", "名前_番号", "名前.番号"]);
        // Non-ASCII punctuation is a boundary.
        all("a·b—c", ["a_b_c", "aBC", "ABC", "a-b-c", "A_B_C", "a.b.c"]);
    }

    #[test]
    fn fast_path_agrees_with_the_conversion() {
        let samples = [
            "a", "ab", "a1", "1a", "a_b", "a__b", "_a", "a_", "A", "AB", "A_B", "a-b", "a--b", "-a", "aB",
            "aBC", "aBc", "Ab", "AbC", "ABc", "a1B", "a1b", "userId", "UserId", "user_id", "USER_ID",
            "user-id", "x9y", "X9Y", "field_1", "FIELD_1", "field-1", "A1", "a1A", "a.b", "a..b", "v2.api",
            "1", "_1",
        ];
        for mode in CaseMode::ALL {
            for sample in samples {
                if mode.is_fixed_point(sample) {
                    let converted = match mode {
                        CaseMode::SnakeCase => sample.to_snake_case(),
                        mode => join(&words(sample), mode),
                    };
                    assert_eq!(converted, sample, "{mode:?} fast path wrong for {sample:?}");
                }
            }
        }
        assert!(CaseMode::Snake.is_fixed_point("first_name"));
        assert!(CaseMode::Camel.is_fixed_point("firstName"));
        assert!(CaseMode::Pascal.is_fixed_point("FirstName"));
        assert!(CaseMode::Kebab.is_fixed_point("first-name"));
        assert!(CaseMode::ScreamingSnake.is_fixed_point("FIRST_NAME"));
        assert!(CaseMode::Dot.is_fixed_point("first.name"));
    }

    #[test]
    fn unchanged_keys_report_no_conversion() {
        assert_eq!(CaseMode::Snake.convert("first_name"), None);
        // Not caught by the ASCII check, but still a fixed point.
        assert_eq!(CaseMode::Snake.convert("émile"), None);
        assert_eq!(CaseMode::SnakeCase.convert("émile"), None);
        assert_eq!(CaseMode::Snake.convert("firstName").as_deref(), Some("first_name"));
        for mode in CaseMode::ALL {
            assert_eq!(mode.convert("__"), None, "{mode:?}");
            assert_eq!(mode.convert(""), None, "{mode:?}");
        }
    }
}
