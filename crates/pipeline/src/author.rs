//! The model as a Terraform author for the infra crate's repair loop.

use std::collections::BTreeMap;

use async_trait::async_trait;
use infra::InfraError;
use infra::terraform::{AuthorRequest, TerraformAuthor};
use llm::Memo;
use serde_json::json;

/// Longest Terraform file accepted from the model.
const MAX_FILE_BYTES: usize = 64 * 1024;

pub(crate) struct ModelAuthor<'a> {
    pub client: &'a llm::Client,
    pub memo: &'a dyn Memo,
}

#[async_trait]
impl TerraformAuthor for ModelAuthor<'_> {
    async fn write(&self, request: &AuthorRequest) -> Result<BTreeMap<String, String>, InfraError> {
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["files"],
            "properties": {
                "files": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 12,
                    "items": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["name", "content"],
                        "properties": {
                            "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.tf$"},
                            "content": {"type": "string"}
                        }
                    }
                }
            }
        });
        let system = "You write Terraform for AWS. Start from the skeleton you are given, \
            keep its structure, resources and outputs, and adapt it to the application. \
            Every rule listed must hold: the files are checked by a policy gate before \
            anything runs. Never use provisioners, external or http data sources, or \
            modules from outside. Never put credentials in files. Answer with the complete \
            files.";
        let user = serde_json::to_string_pretty(request)
            .map_err(|e| InfraError::Template(format!("cannot encode the author request: {e}")))?;
        let (answer, _record) = self
            .client
            .chat_json("terraform", system, &user, &schema, self.memo)
            .await
            .map_err(|e| {
                InfraError::Template(format!("the model could not write Terraform: {e}"))
            })?;
        let mut files = BTreeMap::new();
        for file in answer["files"].as_array().into_iter().flatten() {
            let (Some(name), Some(content)) = (file["name"].as_str(), file["content"].as_str())
            else {
                continue;
            };
            if content.len() > MAX_FILE_BYTES {
                return Err(InfraError::Template(format!(
                    "the model's {name} is larger than {MAX_FILE_BYTES} bytes"
                )));
            }
            files.insert(name.to_owned(), content.to_owned());
        }
        Ok(files)
    }
}
