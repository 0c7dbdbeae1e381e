//! One HTTP request to the chat completions endpoint, and the classification
//! of what can go wrong with it.

use std::time::Duration;

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, CreateChatCompletionRequestArgs, ResponseFormat,
    ResponseFormatJsonSchema,
};
use serde_json::Value;

use crate::error::{LlmError, scrub};
use crate::message::ChatMessage;

/// Server text kept in an error at most: 5xx bodies can be whole HTML pages.
const MAX_SERVER_TEXT: usize = 300;

/// What the model answered, with what it cost.
pub(crate) struct Reply {
    pub content: Result<String, String>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

pub(crate) enum SendError {
    /// Worth another attempt after a pause.
    Retryable(String),
    /// The server does not take `response_format: json_schema`.
    SchemaUnsupported,
    Permanent(LlmError),
}

pub(crate) struct Request<'a> {
    pub model: &'a str,
    pub purpose: &'a str,
    pub messages: &'a [ChatMessage],
    pub schema: &'a Value,
    /// Structured outputs (strict json_schema); otherwise json_object with the
    /// schema spelled out in a system message.
    pub structured: bool,
    pub timeout: Duration,
}

pub(crate) async fn send(
    client: &async_openai::Client<OpenAIConfig>,
    api_key: &str,
    request: &Request<'_>,
) -> Result<Reply, SendError> {
    let body = build(request).map_err(|e| classify(e, api_key, request.structured))?;
    let answer = tokio::time::timeout(request.timeout, client.chat().create(body)).await;
    let response = match answer {
        Err(_) => {
            return Err(SendError::Retryable(format!(
                "no answer within {} s",
                request.timeout.as_secs_f32()
            )));
        }
        Ok(Err(e)) => return Err(classify(e, api_key, request.structured)),
        Ok(Ok(response)) => response,
    };
    let (prompt_tokens, completion_tokens) = response
        .usage
        .as_ref()
        .map_or((0, 0), |u| (u.prompt_tokens, u.completion_tokens));
    let content = match response.choices.into_iter().next() {
        None => Err("the reply has no choices".to_owned()),
        Some(choice) => match (choice.message.content, choice.message.refusal) {
            (Some(text), _) if !text.trim().is_empty() => Ok(text),
            (_, Some(refusal)) => Err(format!("the model refused: {refusal}")),
            _ => Err("the reply is empty".to_owned()),
        },
    };
    Ok(Reply {
        content,
        prompt_tokens,
        completion_tokens,
    })
}

fn build(
    request: &Request<'_>,
) -> Result<async_openai::types::chat::CreateChatCompletionRequest, OpenAIError> {
    let mut messages: Vec<ChatCompletionRequestMessage> = request
        .messages
        .iter()
        .map(ChatMessage::to_request)
        .collect();
    let format = if request.structured {
        ResponseFormat::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                description: None,
                name: schema_name(request.purpose),
                schema: request.schema.clone(),
                strict: Some(true),
            },
        }
    } else {
        let spelled = ChatMessage::system(format!(
            "Answer with one JSON object, and nothing else, that matches this JSON Schema:\n{}",
            request.schema
        ));
        messages.insert(0, spelled.to_request());
        ResponseFormat::JsonObject
    };
    CreateChatCompletionRequestArgs::default()
        .model(request.model)
        .messages(messages)
        .response_format(format)
        .build()
}

/// OpenAI wants `^[a-zA-Z0-9_-]{1,64}$`.
fn schema_name(purpose: &str) -> String {
    let name: String = purpose
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "answer".to_owned()
    } else {
        name
    }
}

fn classify(error: OpenAIError, api_key: &str, structured: bool) -> SendError {
    match error {
        OpenAIError::ApiError(response) => {
            let status = response.status_code.as_u16();
            let api = response.api_error;
            let message = short(&scrub(&api.message, api_key));
            let about_format = api.param.as_deref() == Some("response_format")
                || api.message.contains("response_format")
                || api.message.contains("json_schema");
            match status {
                401 | 403 => SendError::Permanent(LlmError::Auth { status }),
                429 if [&api.code, &api.r#type]
                    .iter()
                    .any(|v| v.as_deref() == Some("insufficient_quota")) =>
                {
                    SendError::Permanent(LlmError::Rejected { status, message })
                }
                408 | 409 | 429 | 500..=599 => {
                    SendError::Retryable(format!("HTTP {status}: {message}"))
                }
                400 if structured && about_format => SendError::SchemaUnsupported,
                _ => SendError::Permanent(LlmError::Rejected { status, message }),
            }
        }
        OpenAIError::Reqwest(e) if e.is_builder() => {
            SendError::Permanent(LlmError::Config(short(&scrub(&e.to_string(), api_key))))
        }
        OpenAIError::Reqwest(e) => SendError::Retryable(short(&scrub(&e.to_string(), api_key))),
        OpenAIError::JSONDeserialize(e, _) => {
            SendError::Retryable(format!("the model service sent a malformed response: {e}"))
        }
        OpenAIError::InvalidArgument(reason) => {
            SendError::Permanent(LlmError::Config(short(&scrub(&reason, api_key))))
        }
        other => SendError::Retryable(short(&scrub(&other.to_string(), api_key))),
    }
}

fn short(text: &str) -> String {
    match text.char_indices().nth(MAX_SERVER_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_what_openai_accepts() {
        assert_eq!(schema_name("read_files"), "read_files");
        assert_eq!(schema_name("terraform: main.tf"), "terraform__main_tf");
        assert_eq!(schema_name(""), "answer");
        assert_eq!(schema_name(&"x".repeat(100)).len(), 64);
    }
}
