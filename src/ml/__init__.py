"""Machine learning from scratch: `src.ml.classical` (day 3: trees, forests, SVM, naive Bayes) and
`src.ml.deep_learning` (day 4: the autograd engine, layers, MLP, CNN, LSTM)."""
