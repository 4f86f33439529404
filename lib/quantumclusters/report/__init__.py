"""The book's side of the package: everything that *presents* a run.

The engine (:mod:`quantumclusters.schema`, :mod:`~quantumclusters.detection`,
:mod:`~quantumclusters.indicators`, :mod:`~quantumclusters.ranking`,
:mod:`~quantumclusters.robustness`, :mod:`~quantumclusters.audit`, :mod:`~quantumclusters.network`,
:mod:`~quantumclusters.derived`, :mod:`~quantumclusters.pipeline`,
:mod:`~quantumclusters.cli`) computes clusters, indicators and rankings from records and
never imports this subpackage. This subpackage turns a run into the book:

* :mod:`.book` - the build runner (papermill, cache, jupyter-book);
* :mod:`.notebook` - helpers the chapters share (load a run, format, safe Markdown);
* :mod:`.style` - the figure house style, in one place (size, fonts, colour keys, labels);
* :mod:`.plots`, :mod:`.maps`, :mod:`.audit_figures`, :mod:`.diagram` - the figures and the
  methodology diagram; :mod:`.figures` - how a figure is shown (2x image, alt text,
  disclosure); :mod:`.display` - the tables;
* :mod:`.published`, :mod:`.fidelity` - the paper's own numbers and the comparison with
  them (never read by the ranking code).
"""
