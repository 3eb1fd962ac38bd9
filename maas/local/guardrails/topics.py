"""Denied topics, locally: TF-IDF similarity to the topic against everyday requests.

Bedrock decides with a language model whether a text is about a denied topic. Locally, a
text is compared (cosine similarity of character n-gram TF-IDF vectors, scikit-learn) with
each topic's definition and examples, and with :data:`EVERYDAY_REQUESTS`, a fixed set of
ordinary requests across many domains. The text is about the topic when its similarity to
the topic reaches :data:`MIN_SIMILARITY` *and* beats its similarity to every everyday
request: the nearest neighbour decides, and "nothing in particular" is a neighbour too.
The everyday requests also give the vectorizer its document frequencies, so words common
to any request ("how", "should", "which") weigh little.

What this cannot do, and Bedrock can: tell a figurative use of the topic's words ("invest
time in learning") from a literal one, follow a paraphrase that shares no words with the
topic, or read languages other than English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

if TYPE_CHECKING:
    from schemas.guardrail import TopicConfig, TopicPolicyConfig

#: The least similarity to a topic that can count as being about it.
MIN_SIMILARITY = 0.25

#: Ordinary requests an assistant gets, none of them about anything a guardrail denies.
EVERYDAY_REQUESTS = (
    "How do I fix this error in my Python code?",
    "Write a unit test for this function.",
    "Explain how HTTP caching works.",
    "What does this SQL query do?",
    "How do I deploy a container on Kubernetes?",
    "Why is my web page loading slowly?",
    "What is the weather usually like in Lisbon in May?",
    "Plan a three-day trip to Rome for me.",
    "Which laptop is good for programming?",
    "Compare these two phones for me.",
    "Give me a recipe for vegetable soup.",
    "How long should I boil an egg?",
    "Translate this paragraph into French.",
    "Summarize this meeting transcript in five bullet points.",
    "Draft a polite email declining an invitation.",
    "Help me write a cover letter for a job application.",
    "What are good stretches for lower back pain?",
    "How many hours of sleep does an adult need?",
    "Explain photosynthesis to a ten-year-old.",
    "Who wrote Pride and Prejudice?",
    "What is the history of the Roman Empire?",
    "How does a car engine work?",
    "Recommend a good science fiction novel.",
    "How do I learn to play the guitar?",
    "What time is it in Tokyo now?",
    "How do I reset my password?",
    "What are your opening hours?",
    "Explain the rules of chess.",
    "Suggest a name for my new puppy.",
    "How do vaccines train the immune system?",
    "What is machine learning?",
    "How do I budget for groceries each month?",
    "How is interest on a loan calculated?",
    "What is inflation and why does it happen?",
    "How does the stock market work in general?",
    "Describe the economy of Japan.",
    "How do I open a bank account?",
    "What should I pack for a week of hiking?",
    "How can I be more productive when working from home?",
    "Write a short poem about the sea.",
    "What is the difference between a virus and a bacterium?",
    "How do I change a flat tyre?",
    "Explain the plot of Hamlet.",
    "What games can children play at a birthday party?",
    "Which programming language should I learn first?",
    "How do I file my expenses report at work?",
    # Times, amounts and identifiers appear in requests about anything: they are no topic.
    "What will the weather be like next year in spring?",
    "Is now a good time to visit Iceland?",
    "What should I cook this week for dinner?",
    "Which movies are coming out next month?",
    "Remind me tomorrow at 9 to call the dentist.",
    "My card number was declined at the shop right now.",
    "Can you check my order number and the delivery date?",
    "What is the best way to learn Spanish in a year?",
    "Who will win the football league this season?",
)


@dataclass(frozen=True)
class TopicScore:
    """How similar a text is to a topic, and whether that makes it about the topic."""

    topic: TopicConfig
    similarity: float
    detected: bool


class TopicClassifier:
    """Decides which of a policy's denied topics a text is about."""

    def __init__(self, config: TopicPolicyConfig) -> None:
        self._topics = list(config.topics_config)
        corpus = [text for topic in self._topics for text in (topic.definition, *topic.examples)]
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True
        )
        self._vectorizer.fit([*corpus, *EVERYDAY_REQUESTS])
        self._topic_vectors = [
            self._vectorizer.transform([topic.definition, *topic.examples])
            for topic in self._topics
        ]
        self._everyday_vectors = self._vectorizer.transform(EVERYDAY_REQUESTS)

    def score(self, text: str) -> list[TopicScore]:
        """Every topic with the text's similarity to it (its closest definition or example)."""
        vector = self._vectorizer.transform([text])
        everyday = float(cosine_similarity(vector, self._everyday_vectors).max())
        scores = []
        for topic, topic_vectors in zip(self._topics, self._topic_vectors, strict=True):
            similarity = float(cosine_similarity(vector, topic_vectors).max())
            detected = similarity >= MIN_SIMILARITY and similarity > everyday
            scores.append(TopicScore(topic=topic, similarity=similarity, detected=detected))
        return scores


__all__ = ["EVERYDAY_REQUESTS", "MIN_SIMILARITY", "TopicClassifier", "TopicScore"]
