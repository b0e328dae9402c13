"""The capstone: a GitHub issue classifier (bug / feature / question), from training data to a served model.

Modules, in the order the data flows:
    data.py        load and validate the labelled issues (NLBSE'24 format)
    text.py        turn an issue's title and body into one clean text
    tfidf.py       the TF-IDF + logistic regression baseline
    transformer.py MiniLM fine-tuned for classification (top layers trained, bottom layers frozen)
    model.py       IssueClassifier: a weighted ensemble of members, as an MLflow pyfunc model
    evaluation.py  the NLBSE report: precision, recall, F1 per class, per repository and overall
    registry.py    log, register, and move the `champion` alias only when the candidate is better
"""
