"""`rag train-reader`: train the answer reader that `rag.reader` runs, beside the library.

A training application, not part of the library: `rag` never imports this package except
in the `rag train-reader` command, and this package uses the library's public modules (the
encoders, the sentence splitter, the cheap scorer, the reader runtime) so that training,
calibration and answering score sentences one way.

1. `data`: the public QA sets (SQuAD 2.0, QED, SelQA) as labelled question groups, split
   into training and held-out data by article or file.
2. `train`: all-MiniLM-L6-v2 fine-tuned as a (question, sentence) cross-encoder.
3. `export`: the trained model as int8 ONNX with its tokenizer and reader.json.
4. `adapter`: the question adapter for the cheap scorer's cosines.
5. `calibrate`: shortlist, fusion weight, reading on, join margin, cosine floor and the
   abstention model, chosen on the held-out splits only, and the held-out report.
6. `build`: the steps in order, and the model card (MODEL_CARD.template.md); `cli` holds
   the flags (`python -m training` is `rag train-reader`).

It writes only into the folder it is given; copying the result into `rag/reader/model`
ships it.
"""
