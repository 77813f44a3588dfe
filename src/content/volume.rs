//! The `volume:` field: a volume the lab already hosts, named the way Neuroglancer opens it
//! (`zarr://https://…`, `precomputed://gs://bucket/…`). vitrine checks the form here and never
//! copies the volume: it stays where the lab's own pipeline wrote it, however large.

use serde::Serialize;

/// The data formats a `volume:` may name, as Neuroglancer spells their URL schemes, and what
/// the page calls them.
const FORMATS: &[(&str, &str)] = &[
    ("zarr", "Zarr (OME-Zarr)"),
    ("zarr2", "Zarr v2 (OME-Zarr 0.4)"),
    ("zarr3", "Zarr v3 (OME-Zarr 0.5)"),
    ("precomputed", "Neuroglancer precomputed"),
    ("n5", "N5"),
];

/// Where the data may live: the web, Google Cloud Storage or S3.
const LOCATIONS: &[&str] = &["https://", "http://", "gs://", "s3://"];

/// A remote volume, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteVolume {
    /// As written (trimmed), the source Neuroglancer is given: `zarr://https://lab.org/v.zarr`.
    pub url: String,
    /// The scheme before the location: `zarr`, `zarr2`, `zarr3`, `precomputed` or `n5`.
    pub format: &'static str,
    /// What the page calls the format, e.g. `Neuroglancer precomputed`.
    pub format_name: &'static str,
    /// Where the volume is, without a trailing `/`: `https://…`, `gs://bucket/…`, `s3://bucket/…`.
    pub location: String,
}

impl RemoteVolume {
    /// Checks a `volume:` value; the error says what is wrong and how to write it.
    pub fn parse(value: &str) -> Result<RemoteVolume, String> {
        let url = value.trim();
        let example = "write it as Neuroglancer names a source, e.g. \
                       zarr://https://data.example.org/brain.ome.zarr or precomputed://gs://bucket/em";
        if url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`".contains(c))
        {
            return Err(format!(
                "volume '{url}' contains spaces or quotes; {example}"
            ));
        }
        let Some((scheme, location)) = url.split_once("://") else {
            return Err(format!("volume '{url}' is not a URL; {example}"));
        };
        let Some(&(format, format_name)) = FORMATS.iter().find(|(f, _)| *f == scheme) else {
            let known: Vec<&str> = FORMATS.iter().map(|(f, _)| *f).collect();
            return Err(format!(
                "volume '{url}' names no format Neuroglancer reads ('{scheme}://'; it reads {}); \
                 {example}",
                known.join("://, ") + "://"
            ));
        };
        let Some(prefix) = LOCATIONS.iter().find(|p| location.starts_with(**p)) else {
            return Err(format!(
                "volume '{url}': after '{format}://' comes where the volume is, starting with \
                 https://, http://, gs:// or s3://"
            ));
        };
        let location = location.trim_end_matches('/');
        let host = location[prefix.len()..].split('/').next().unwrap_or("");
        if host.is_empty() {
            return Err(format!(
                "volume '{url}' names no host or bucket after '{prefix}'"
            ));
        }
        Ok(RemoteVolume {
            url: url.to_string(),
            format,
            format_name,
            location: location.to_string(),
        })
    }

    /// The address its files are read at over HTTP(S): cloud buckets by their public
    /// endpoints, as Neuroglancer reads them.
    pub fn http_location(&self) -> String {
        if let Some(rest) = self.location.strip_prefix("gs://") {
            format!("https://storage.googleapis.com/{rest}")
        } else if let Some(rest) = self.location.strip_prefix("s3://") {
            let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
            format!("https://{bucket}.s3.amazonaws.com/{path}")
                .trim_end_matches('/')
                .to_string()
        } else {
            self.location.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neuroglancer_sources_are_accepted() {
        let v = RemoteVolume::parse(" precomputed://gs://lab-bucket/em/ ").unwrap();
        assert_eq!(
            (v.format, v.location.as_str()),
            ("precomputed", "gs://lab-bucket/em")
        );
        assert_eq!(
            v.http_location(),
            "https://storage.googleapis.com/lab-bucket/em"
        );
        let v = RemoteVolume::parse("zarr://s3://open-data/brain.zarr").unwrap();
        assert_eq!(
            v.http_location(),
            "https://open-data.s3.amazonaws.com/brain.zarr"
        );
        let v = RemoteVolume::parse("zarr3://https://lab.example.org/v.ome.zarr").unwrap();
        assert_eq!(v.http_location(), "https://lab.example.org/v.ome.zarr");
    }

    #[test]
    fn malformed_volumes_say_how_to_write_them() {
        for (value, says) in [
            ("https://lab.example.org/v.zarr", "names no format"),
            ("lab.example.org/v.zarr", "is not a URL"),
            ("tiff://https://lab.example.org/v.tif", "names no format"),
            (
                "zarr://ftp://lab.example.org/v.zarr",
                "starting with https://",
            ),
            ("zarr:///v.zarr", "starting with https://"),
            ("precomputed://gs:///em", "no host or bucket"),
            (
                "zarr://https://lab.example.org/my volume",
                "spaces or quotes",
            ),
        ] {
            let err = RemoteVolume::parse(value).unwrap_err();
            assert!(err.contains(says), "{value}: {err}");
        }
    }
}
