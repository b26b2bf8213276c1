//! GitOps delivery: the rendered objects as files in a folder of the user's GitOps
//! repository (one per object and a `kustomization.yaml`), and reading them back.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use paved_manifests::{Manifest, Rendered};

use super::{object_label, permanent, Delivered, CHANGED};
use crate::stack::BackendError;

/// Writes `rendered` into `dir` (files already as rendered are left untouched) and
/// removes the files of `before`'s objects no longer rendered.
pub fn write_files(
    dir: &Path,
    rendered: &Rendered,
    before: &[Manifest],
) -> Result<(), BackendError> {
    let during = "writing GitOps files";
    let io = |path: &Path, e: std::io::Error| {
        permanent(
            during,
            format!("{}: {e}", path.display()),
            "Check that gitops_path is a directory Terraform may write.",
        )
    };
    let files = paved_manifests::to_gitops_files(rendered)
        .map_err(|e| permanent(during, e.to_string(), ""))?;
    let wanted: BTreeSet<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for (name, text) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        }
    }
    for m in before {
        let name = paved_manifests::file_name(m);
        if !wanted.contains(name.as_str()) {
            let path: PathBuf = dir.join(&name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path, e)),
            }
        }
    }
    Ok(())
}

/// Reads the files of `rendered`'s objects back from `dir`: a file gone leaves its
/// object out, one edited by hand is marked [`CHANGED`].
pub fn read_files(dir: &Path, rendered: &Rendered) -> Delivered {
    let mut objects = Vec::new();
    for m in &rendered.objects {
        let path = dir.join(paved_manifests::file_name(m));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let same = paved_manifests::to_gitops_files(&Rendered {
            objects: vec![m.clone()],
        })
        .ok()
        .and_then(|f| {
            f.into_iter()
                .find(|(n, _)| *n == paved_manifests::file_name(m))
        })
        .is_some_and(|(_, want)| want == text);
        objects.push(if same {
            object_label(m)
        } else {
            format!("{}{CHANGED}", object_label(m))
        });
    }
    settle(objects, rendered)
}

/// What was found, with the rendering's digest when it is all there as rendered.
pub(super) fn settle(objects: Vec<String>, rendered: &Rendered) -> Delivered {
    let whole =
        objects.len() == rendered.objects.len() && !objects.iter().any(|o| o.ends_with(CHANGED));
    if whole {
        Delivered::whole(rendered)
    } else {
        Delivered::partial(objects)
    }
}
