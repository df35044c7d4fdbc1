//! `pagination`: how the next page is requested. A tagged union whose keys
//! sit beside `type`, one declared struct per style.

use std::fmt;
use std::marker::PhantomData;

use proc_macro2::TokenStream;
use quote::quote;

use super::checks::JsonPath;
use crate::diag::Diagnostics;
use crate::emit::{Gen, string};
use crate::load::Node;
use crate::read::{Fields, one_of, plain_string};
use crate::settings::values::Int;
use crate::settings::{Setting, settings};
use crate::spec::{Field, Kind, Spec, Variant};

/// A pagination style, for messages.
pub trait Style {
    /// The style's `type`.
    const NAME: &'static str;
}

/// A query parameter or body field of pagination style `S`: not empty.
pub struct Name<S>(pub String, PhantomData<fn() -> S>);

impl<S: Style> Setting for Name<S> {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let s = plain_string(node, key, diags)?;
        if s.is_empty() {
            diags.error(&node.loc, format!("`{key}` of `{}` pagination is empty", S::NAME));
            return None;
        }
        Some(Name(s, PhantomData))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

impl<S> Clone for Name<S> {
    fn clone(&self) -> Self {
        Name(self.0.clone(), PhantomData)
    }
}

impl<S> fmt::Debug for Name<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `None`: one request (no keys).
const SINGLE: Spec = Spec { name: "rest.pagination.None", doc: "One request.", fields: &[], variants: &[] };

/// `LinkHeader` (no keys).
const LINK_HEADER: Spec = Spec {
    name: "rest.pagination.LinkHeader",
    doc: "Follow the `Link: <…>; rel=\"next\"` header.",
    fields: &[],
    variants: &[],
};

settings! {
    /// A token from the body, sent back as a query parameter.
    pub struct Cursor("rest.pagination.Cursor") => rest::Pagination::Cursor {
        /// JSONPath of the next token.
        next_token_path: JsonPath,
        /// The query parameter.
        param_name: Name<Cursor>,
    }
}

settings! {
    /// A token from the body, sent back in the request body.
    pub struct CursorInBody("rest.pagination.CursorInBody") => rest::Pagination::CursorInBody {
        /// JSONPath of the next token.
        next_token_path: JsonPath,
        /// The body field.
        body_cursor_field: Name<CursorInBody>,
    }
}

settings! {
    /// The next page's URL from the body.
    pub struct NextLinkInBody("rest.pagination.NextLinkInBody") => rest::Pagination::NextLinkInBody {
        /// JSONPath of the next link.
        next_link_path: JsonPath,
    }
}

settings! {
    /// A page number query parameter, until a page is empty.
    pub struct PageNumber("rest.pagination.PageNumber") => rest::Pagination::PageNumber {
        /// The page number's query parameter.
        param_name: Name<PageNumber>,
        /// The first page.
        start_page: Int<0, { i64::MAX }> = 1,
        /// Records per page.
        page_size: Option<Int<1, 1_000_000>>,
        /// The page size's query parameter (with `page_size`).
        page_size_param: Option<String>,
    }
}

settings! {
    /// Offset and limit query parameters.
    pub struct Offset("rest.pagination.Offset") => rest::Pagination::Offset {
        /// The offset's query parameter.
        offset_param: Name<Offset>,
        /// The limit's query parameter.
        limit_param: Name<Offset>,
        /// Records per page.
        limit: Int<1, 1_000_000>,
        /// JSONPath of the total, to stop early.
        total_path: Option<JsonPath>,
    }
}

impl Style for Cursor {
    const NAME: &'static str = "Cursor";
}

impl Style for CursorInBody {
    const NAME: &'static str = "CursorInBody";
}

impl Style for PageNumber {
    const NAME: &'static str = "PageNumber";
}

impl Style for Offset {
    const NAME: &'static str = "Offset";
}

const STYLES: &[&str] =
    &["None", "Cursor", "CursorInBody", "LinkHeader", "NextLinkInBody", "PageNumber", "Offset"];

/// The `pagination` map: `type` picks the style, whose keys sit beside it.
const PAGINATION: Spec = Spec {
    name: "rest.pagination",
    doc: "How the next page is requested.",
    fields: &[Field::req("type", Kind::OneOf(STYLES), "The pagination style.")],
    variants: &[
        Variant { tag: "None", nested: false, spec: Some(&SINGLE) },
        Variant { tag: "Cursor", nested: false, spec: Some(&Cursor::SPEC) },
        Variant { tag: "CursorInBody", nested: false, spec: Some(&CursorInBody::SPEC) },
        Variant { tag: "LinkHeader", nested: false, spec: Some(&LINK_HEADER) },
        Variant { tag: "NextLinkInBody", nested: false, spec: Some(&NextLinkInBody::SPEC) },
        Variant { tag: "PageNumber", nested: false, spec: Some(&PageNumber::SPEC) },
        Variant { tag: "Offset", nested: false, spec: Some(&Offset::SPEC) },
    ],
};

/// `pagination`: how the next page is requested (one request when absent).
#[derive(Debug, Clone)]
pub enum Pagination {
    /// One request.
    None,
    /// A token sent back as a query parameter.
    Cursor(Cursor),
    /// A token sent back in the request body.
    CursorInBody(CursorInBody),
    /// The `Link` header.
    LinkHeader,
    /// A URL from the body.
    NextLinkInBody(NextLinkInBody),
    /// Page numbers.
    PageNumber(PageNumber),
    /// Offsets.
    Offset(Offset),
}

impl Setting for Pagination {
    const KIND: Kind = Kind::Object(&PAGINATION);
    const REQUIRED: bool = false;

    fn read(node: &Node, _: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(node, &PAGINATION, "`pagination`", diags)?;
        let style_node = f.require("type", diags)?;
        let Some(style) = one_of(style_node, "pagination type", STYLES, diags) else {
            // Read the other keys so they are not reported as unknown as well.
            for variant in PAGINATION.variants.iter().filter_map(|v| v.spec) {
                for field in variant.fields {
                    f.get(field.key);
                }
            }
            return None;
        };
        let pagination = match style {
            "None" => Some(Pagination::None),
            "LinkHeader" => Some(Pagination::LinkHeader),
            "Cursor" => Cursor::read(&mut f, diags).map(Pagination::Cursor),
            "CursorInBody" => CursorInBody::read(&mut f, diags).map(Pagination::CursorInBody),
            "NextLinkInBody" => NextLinkInBody::read(&mut f, diags).map(Pagination::NextLinkInBody),
            "PageNumber" => {
                let pages = PageNumber::read(&mut f, diags);
                if let Some(p) = &pages
                    && p.page_size.is_none()
                    && p.page_size_param.is_some()
                {
                    diags.error_help(
                        &node.loc,
                        "`page_size_param` without `page_size`",
                        "add `page_size: <records per page>`",
                    );
                    return None;
                }
                pages.map(Pagination::PageNumber)
            }
            _ => Offset::read(&mut f, diags).map(Pagination::Offset),
        };
        f.finish(diags);
        pagination
    }

    fn absent() -> Option<Self> {
        Some(Pagination::None)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        match self {
            Pagination::None => quote!(#rt::config::rest::Pagination::None),
            Pagination::LinkHeader => quote!(#rt::config::rest::Pagination::LinkHeader),
            Pagination::Cursor(c) => c.config(g),
            Pagination::CursorInBody(c) => c.config(g),
            Pagination::NextLinkInBody(c) => c.config(g),
            Pagination::PageNumber(c) => c.config(g),
            Pagination::Offset(c) => c.config(g),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}
