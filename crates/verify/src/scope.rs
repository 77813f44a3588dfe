//! What a token opens: a dataset, one annotation of it or one layer of it, carried as an 8-byte
//! digest.

use sha2::{Digest, Sha512};

/// A scope a request may be opened with; its string form is `dataset:<slug>`,
/// `annotation:<slug>/<id>` or `layer:<slug>/<id>`.
///
/// The token carries only a digest of the string, because the slug is already in the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope<'a> {
    /// A whole dataset: `dataset:<slug>`.
    Dataset(&'a str),
    /// One annotation of a dataset: `annotation:<slug>/<id>`.
    Annotation(&'a str, &'a str),
    /// One segmentation layer of a dataset: `layer:<slug>/<id>`.
    Layer(&'a str, &'a str),
}

impl<'a> Scope<'a> {
    /// The first 8 bytes of SHA-512 of the scope string.
    pub fn digest(&self) -> [u8; 8] {
        let mut h = Sha512::new();
        match self {
            Scope::Dataset(slug) => {
                h.update(b"dataset:");
                h.update(slug.as_bytes());
            }
            Scope::Annotation(slug, id) => {
                h.update(b"annotation:");
                h.update(slug.as_bytes());
                h.update(b"/");
                h.update(id.as_bytes());
            }
            Scope::Layer(slug, id) => {
                h.update(b"layer:");
                h.update(slug.as_bytes());
                h.update(b"/");
                h.update(id.as_bytes());
            }
        }
        first8(&h.finalize())
    }

    /// Reads a scope string back (`dataset:<slug>`, `annotation:<slug>/<id>` or
    /// `layer:<slug>/<id>`).
    ///
    /// Used by tools and vectors that write scopes as text; `None` for anything else.
    pub fn parse(text: &'a str) -> Option<Scope<'a>> {
        if let Some(slug) = text.strip_prefix("dataset:") {
            return (!slug.is_empty() && !slug.contains('/')).then_some(Scope::Dataset(slug));
        }
        let (kind, rest): (fn(&'a str, &'a str) -> Scope<'a>, &'a str) =
            match text.strip_prefix("annotation:") {
                Some(rest) => (Scope::Annotation, rest),
                None => (Scope::Layer, text.strip_prefix("layer:")?),
            };
        let (slug, id) = rest.split_once('/')?;
        (!slug.is_empty() && !id.is_empty() && !id.contains('/')).then(|| kind(slug, id))
    }

    /// The dataset slug, which every kind of scope names.
    pub fn slug(&self) -> &'a str {
        match self {
            Scope::Dataset(slug) | Scope::Annotation(slug, _) | Scope::Layer(slug, _) => slug,
        }
    }
}

impl core::fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Scope::Dataset(slug) => write!(f, "dataset:{slug}"),
            Scope::Annotation(slug, id) => write!(f, "annotation:{slug}/{id}"),
            Scope::Layer(slug, id) => write!(f, "layer:{slug}/{id}"),
        }
    }
}

/// The first 8 bytes of SHA-512 of any scope string, for verifiers that hold scopes as text.
pub fn scope_digest(scope: &[u8]) -> [u8; 8] {
    first8(&Sha512::digest(scope))
}

fn first8(hash: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&hash[..8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_over_the_whole_scope_string() {
        assert_eq!(
            Scope::Dataset("cortex").digest(),
            scope_digest(b"dataset:cortex")
        );
        assert_eq!(
            Scope::Annotation("cortex", "axon-1").digest(),
            scope_digest(b"annotation:cortex/axon-1")
        );
        assert_eq!(
            Scope::Layer("cortex", "cells").digest(),
            scope_digest(b"layer:cortex/cells")
        );
        assert_ne!(
            Scope::Dataset("cortex").digest(),
            Scope::Annotation("cortex", "x").digest()
        );
        // One id as an annotation and as a layer: two scopes, two digests.
        assert_ne!(
            Scope::Annotation("cortex", "x").digest(),
            Scope::Layer("cortex", "x").digest()
        );
    }

    #[test]
    fn slug_is_the_dataset_of_either_kind() {
        assert_eq!(Scope::Dataset("cortex").slug(), "cortex");
        assert_eq!(Scope::Annotation("retina", "axon-1").slug(), "retina");
        assert_eq!(Scope::Layer("hippo", "cells").slug(), "hippo");
    }

    #[test]
    fn parse_inverts_display() {
        assert_eq!(
            Scope::parse("layer:cortex/cells"),
            Some(Scope::Layer("cortex", "cells"))
        );
        assert_eq!(
            Scope::parse("annotation:cortex/cells"),
            Some(Scope::Annotation("cortex", "cells"))
        );
        for s in [
            "dataset:cortex",
            "annotation:cortex/axon-1",
            "layer:cortex/cells",
        ] {
            let scope = Scope::parse(s).unwrap();
            let mut buf = [0u8; 64];
            let mut w = Buf(&mut buf, 0);
            core::fmt::write(&mut w, format_args!("{scope}")).unwrap();
            let n = w.1;
            assert_eq!(&buf[..n], s.as_bytes());
        }
        for bad in [
            "",
            "dataset:",
            "dataset:a/b",
            "annotation:a",
            "annotation:/x",
            "annotation:a/",
            "annotation:a/b/c",
            "layer:a",
            "layer:/x",
            "layer:a/",
            "layer:a/b/c",
            "layers:a/b",
            "other:a",
        ] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    struct Buf<'a>(&'a mut [u8], usize);
    impl core::fmt::Write for Buf<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.0[self.1..self.1 + s.len()].copy_from_slice(s.as_bytes());
            self.1 += s.len();
            Ok(())
        }
    }
}
