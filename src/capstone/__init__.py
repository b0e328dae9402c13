"""The capstone: a GitHub issue classifier (bug / feature / question), from training data to a served model.

Modules, in the order the data flows:
    data.py        load and validate the labelled issues (NLBSE'24 format)
    text.py        turn an issue's title and body into one clean text
    tfidf.py       the TF-IDF + logistic regression baseline
    transformer.py MiniLM fine-tuned for classification (top layers trained, bottom layers frozen)
    model.py       IssueClassifier: a weighted ensemble of members, as an MLflow pyfunc model (and the one weighting)
    cross_validation.py  out-of-fold predictions of each model (stratified folds), the chosen model's refit
    evaluation.py  the NLBSE report: precision, recall, F1 per class, per repository and overall
    registry.py    log, register, and move the `champion` alias only when the candidate is better
    outputs.py     the files the training stage hands the package and monitor stages (champion.json, ...)
    prediction_log.py  the service's prediction log, which the monitor reads
"""
