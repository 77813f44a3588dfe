//! The one error type of the media stage.

use std::path::{Path, PathBuf};

/// Why an image could not be probed or derived; every variant names the file and what to do.
///
/// `Display` is `path: problem`; the content stage shows [`MediaError::problem`] at the
/// descriptor line that names the image instead, so the path is printed once.
#[derive(Debug)]
pub enum MediaError {
    /// The file could not be opened or read.
    Read {
        /// The image file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The header declares more pixels than the configured limit (checked before decoding).
    TooLarge {
        /// The image file.
        path: PathBuf,
        /// Width the header claims.
        width: u32,
        /// Height the header claims.
        height: u32,
        /// The limit in pixels.
        limit: u64,
    },
    /// The bytes are not a supported image, or the header or pixel data is damaged or cut short.
    Undecodable {
        /// The image file.
        path: PathBuf,
        /// The decoder's explanation.
        reason: String,
    },
    /// The file decodes, but its layout is one vitrine does not show; `reason` says what to do.
    Unsupported {
        /// The image file.
        path: PathBuf,
        /// What the file holds and how to export it instead.
        reason: String,
    },
    /// Writing the derived files into the cache failed.
    Cache {
        /// The cache file or folder that could not be written.
        path: PathBuf,
        /// What the operating system or encoder said.
        source: std::io::Error,
    },
}

impl MediaError {
    /// The pixel limit, the one rule every reader applies before decoding (and to cached
    /// results): `TooLarge` when `width × height` is over `limit`.
    pub fn check_pixels(
        path: &Path,
        width: u32,
        height: u32,
        limit: u64,
    ) -> Result<(), MediaError> {
        if u64::from(width) * u64::from(height) > limit {
            return Err(MediaError::TooLarge {
                path: path.to_owned(),
                width,
                height,
                limit,
            });
        }
        Ok(())
    }

    /// The file the error is about (for `Cache`, the cache path that failed).
    pub fn path(&self) -> &Path {
        match self {
            MediaError::Read { path, .. }
            | MediaError::TooLarge { path, .. }
            | MediaError::Undecodable { path, .. }
            | MediaError::Unsupported { path, .. }
            | MediaError::Cache { path, .. } => path,
        }
    }

    /// What is wrong and what to do, without the path.
    pub fn problem(&self) -> String {
        match self {
            MediaError::Read { source, .. } => format!(
                "cannot read the image: {source}; check that the file exists and is readable"
            ),
            MediaError::TooLarge {
                width,
                height,
                limit,
                ..
            } => format!(
                "{width} × {height} = {} megapixels is over the limit of {} megapixels \
                 (`images.max_megapixels` in content/site.yaml); downscale it or raise the limit",
                megapixels(u64::from(*width) * u64::from(*height)),
                megapixels(*limit)
            ),
            MediaError::Undecodable { reason, .. } => format!(
                "cannot decode the image ({reason}); re-export it as PNG, JPEG, TIFF or WebP \
                 and check that the file was copied completely"
            ),
            MediaError::Unsupported { reason, .. } => reason.clone(),
            MediaError::Cache { source, .. } => format!(
                "cannot write derived images: {source}; check free disk space and permissions \
                 (deleting `.vitrine-cache/` is always safe)"
            ),
        }
    }
}

impl std::fmt::Display for MediaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path().display(), self.problem())
    }
}

impl std::error::Error for MediaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MediaError::Read { source, .. } | MediaError::Cache { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Pixels as megapixels for messages, without a misleading `0` for small limits.
fn megapixels(pixels: u64) -> String {
    let mp = pixels as f64 / 1e6;
    if mp >= 10.0 {
        format!("{mp:.0}")
    } else {
        format!("{mp:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_names_file_limit_and_remedy() {
        let err = MediaError::TooLarge {
            path: "content/datasets/foo/big.png".into(),
            width: 40000,
            height: 40000,
            limit: 250_000_000,
        };
        assert_eq!(
            err.to_string(),
            "content/datasets/foo/big.png: 40000 × 40000 = 1600 megapixels is over the limit of \
             250 megapixels (`images.max_megapixels` in content/site.yaml); downscale it or \
             raise the limit"
        );
    }
}
