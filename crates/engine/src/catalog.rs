//! The workflows a process knows and the handlers their steps name.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::definition::{self, DefinitionError, WorkflowDefinition};
use crate::step::{Registry, StepHandler};

#[derive(Clone)]
pub struct Catalog {
    workflows: BTreeMap<String, WorkflowDefinition>,
    registry: Registry,
}

impl Catalog {
    /// Loads and validates every definition in `dir` against the registered handlers.
    pub fn load(dir: &Path, registry: Registry) -> Result<Self, DefinitionError> {
        let workflows = definition::load_dir(dir, &|name| registry.contains(name))?;
        Ok(Self {
            workflows,
            registry,
        })
    }

    /// A catalog with no files; definitions are added with [`Catalog::add_toml`].
    pub fn empty(registry: Registry) -> Self {
        Self {
            workflows: BTreeMap::new(),
            registry,
        }
    }

    /// Adds a definition given as TOML text (benchmarks and tests build theirs in code).
    pub fn add_toml(
        &mut self,
        origin: &str,
        text: &str,
    ) -> Result<&WorkflowDefinition, DefinitionError> {
        let registry = &self.registry;
        let def = WorkflowDefinition::from_toml_str(origin, text, &|name| registry.contains(name))?;
        let name = def.name.clone();
        self.workflows.insert(name.clone(), def);
        Ok(&self.workflows[&name])
    }

    pub fn workflow(&self, name: &str) -> Option<&WorkflowDefinition> {
        self.workflows.get(name)
    }

    pub fn workflows(&self) -> impl Iterator<Item = &WorkflowDefinition> {
        self.workflows.values()
    }

    pub fn check_input(&self, workflow: &str, input: &serde_json::Value) -> Result<(), String> {
        self.registry.check_input(workflow, input)
    }

    pub fn handler(&self, name: &str) -> Option<Arc<dyn StepHandler>> {
        self.registry.get(name)
    }
}
