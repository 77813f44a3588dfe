//! The one error type of the media stage.

use std::path::PathBuf;

/// Why an image could not be probed or derived; every variant names the file and what to do.
///
/// The content stage maps these onto the descriptor line that names the image, so the message
/// itself stays about the image file.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file could not be opened or read.
    #[error("{}: cannot read the image: {source}; check that the file exists and is readable", path.display())]
    Read {
        /// The image file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The header declares more pixels than the configured limit (checked before decoding).
    #[error(
        "{}: {width} × {height} = {} megapixels is over the limit of {} megapixels \
         (`images.max_megapixels` in content/site.yaml); downscale it or raise the limit",
        path.display(), megapixels(u64::from(*width) * u64::from(*height)), megapixels(*limit)
    )]
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
    #[error(
        "{}: cannot decode the image ({reason}); re-export it as PNG, JPEG, TIFF or WebP \
         and check that the file was copied completely",
        path.display()
    )]
    Undecodable {
        /// The image file.
        path: PathBuf,
        /// The decoder's explanation.
        reason: String,
    },
    /// The file decodes, but its layout is one vitrine does not show; `reason` says what to do.
    #[error("{}: {reason}", path.display())]
    Unsupported {
        /// The image file.
        path: PathBuf,
        /// What the file holds and how to export it instead.
        reason: String,
    },
    /// Writing the derived files into the cache failed.
    #[error(
        "{}: cannot write derived images: {source}; check free disk space and permissions \
         (deleting `.vitrine-cache/` is always safe)",
        path.display()
    )]
    Cache {
        /// The cache file or folder that could not be written.
        path: PathBuf,
        /// What the operating system or encoder said.
        #[source]
        source: std::io::Error,
    },
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
