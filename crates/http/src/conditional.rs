//! Conditional JSON responses: a strong `ETag` derived from the body, `If-None-Match`
//! answered with 304, and the caching policy of per-organization data.

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use headers::{ETag, HeaderMapExt, IfNoneMatch};

/// A serialized JSON body and its entity tag.
#[derive(Debug, Clone)]
pub(crate) struct Tagged {
    pub etag: HeaderValue,
    /// `etag`, parsed once for `If-None-Match` comparisons.
    tag: ETag,
    pub body: Bytes,
}

impl feather_service::RenderedListing for Tagged {
    fn size(&self) -> usize {
        self.body.len()
    }
}

impl Tagged {
    /// Tags `body` strongly: the tag is a digest of the exact bytes, so equal tags mean
    /// byte-identical bodies, on every replica and across restarts.
    pub fn new(body: Vec<u8>) -> Tagged {
        let digest = blake3::hash(&body);
        let hex: String = digest.as_bytes()[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let etag = format!("\"{hex}\"");
        Tagged {
            tag: etag
                .parse()
                .expect("a quoted hex digest is a valid entity tag"),
            etag: HeaderValue::from_str(&etag)
                .expect("a quoted hex digest is visible ASCII, a valid header value"),
            body: Bytes::from(body),
        }
    }

    /// 304 when the request already holds this representation, else 200 with the body.
    /// Either way private to the caller, and to be revalidated before reuse.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let unchanged = request
            .typed_get::<IfNoneMatch>()
            .is_some_and(|if_none_match| !if_none_match.precondition_passes(&self.tag));
        let mut response = if unchanged {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            Response::new(Body::from(self.body.clone()))
        };
        let headers = response.headers_mut();
        headers.insert(ETAG, self.etag.clone());
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        if !unchanged {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(if_none_match: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::IF_NONE_MATCH,
            HeaderValue::from_str(if_none_match).expect("header"),
        );
        headers
    }

    #[test]
    fn equal_bodies_have_equal_strong_tags() {
        let a = Tagged::new(b"[1]".to_vec());
        assert_eq!(a.etag, Tagged::new(b"[1]".to_vec()).etag);
        assert_ne!(a.etag, Tagged::new(b"[2]".to_vec()).etag);
        assert!(a.etag.to_str().expect("ascii").starts_with('"'));
    }

    #[test]
    fn a_matching_tag_is_304_without_a_body() {
        let tagged = Tagged::new(b"[]".to_vec());
        let tag = tagged.etag.to_str().expect("ascii").to_owned();
        for header in [
            tag.clone(),
            format!("\"other\", {tag}"),
            format!("W/{tag}"),
            "*".to_owned(),
        ] {
            let response = tagged.respond(&request(&header));
            assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{header}");
            assert_eq!(response.headers()[ETAG], tagged.etag);
        }
    }

    #[test]
    fn another_tag_or_none_is_200_with_the_body() {
        let tagged = Tagged::new(b"[]".to_vec());
        for headers in [request("\"other\""), HeaderMap::new()] {
            let response = tagged.respond(&headers);
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[CACHE_CONTROL], "private, no-cache");
        }
    }
}
