//! `POST /containers/{id}/rename`.

use super::{ContainerError, names};

impl crate::Engine {
    pub fn rename_container(&self, name: &str, new_name: &str) -> Result<(), ContainerError> {
        let new_name = new_name.strip_prefix('/').unwrap_or(new_name);
        if new_name.is_empty() {
            return Err(ContainerError::invalid(
                "Neither old nor new names may be empty",
            ));
        }
        if !names::valid_name(new_name) {
            return Err(ContainerError::invalid(format!(
                "Invalid container name ({new_name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        let id = super::resolve(&self.containers.lock(), name)?;
        let old = self.container(&id)?.name;
        if old == new_name {
            return Err(ContainerError::invalid(
                "Renaming a container with the same name as its current name",
            ));
        }
        if let Some(other) = self.containers.lock().values().find(|r| r.name == new_name) {
            return Err(ContainerError::Conflict(format!(
                "Conflict. The container name \"/{new_name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                other.id
            )));
        }
        let record = self.update_container(&id, |r| {
            r.name = new_name.to_string();
            Ok(r.clone())
        })?;
        self.container_event(&record, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }
}
