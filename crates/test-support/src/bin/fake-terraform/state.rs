//! The state document, in the shape of Terraform's state format version 4,
//! plus the pid and port of the app this fake runs (`fake_app`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Resource as ConfigResource;
use crate::ui::VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub terraform_version: String,
    pub serial: u64,
    /// Empty until the first write: a state that does not exist yet.
    pub lineage: String,
    pub outputs: BTreeMap<String, Output>,
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fake_app: Option<App>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub value: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub mode: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub provider: String,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub schema_version: u32,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub pid: u32,
    pub port: u16,
}

impl State {
    /// What a workspace without state reads as.
    pub fn absent() -> Self {
        Self {
            version: 4,
            terraform_version: VERSION.into(),
            serial: 0,
            lineage: String::new(),
            outputs: BTreeMap::new(),
            resources: Vec::new(),
            fake_app: None,
        }
    }

    /// An empty state with its own lineage, as `workspace new` writes it.
    pub fn fresh() -> Self {
        Self {
            lineage: uuid::Uuid::new_v4().to_string(),
            ..Self::absent()
        }
    }

    /// Address to id of every resource.
    pub fn ids(&self) -> BTreeMap<String, String> {
        self.resources
            .iter()
            .flat_map(|r| {
                let address = format!("{}.{}", r.kind, r.name);
                r.instances
                    .iter()
                    .map(move |i| (address.clone(), i.attributes.id.clone()))
            })
            .collect()
    }

    pub fn add(&mut self, resource: &ConfigResource, id: &str) {
        let provider = resource.kind.split('_').next().unwrap_or("null");
        self.resources.push(Resource {
            mode: "managed".into(),
            kind: resource.kind.clone(),
            name: resource.name.clone(),
            provider: format!("provider[\"registry.terraform.io/hashicorp/{provider}\"]"),
            instances: vec![Instance {
                schema_version: 0,
                attributes: Attributes { id: id.to_owned() },
            }],
        });
    }

    /// Removes the resource at `address`, returning its id.
    pub fn remove(&mut self, address: &str) -> Option<String> {
        let index = self
            .resources
            .iter()
            .position(|r| format!("{}.{}", r.kind, r.name) == address)?;
        let removed = self.resources.remove(index);
        removed
            .instances
            .into_iter()
            .next()
            .map(|i| i.attributes.id)
    }
}
