"""Everything that exists only for GIZA++ / MGIZA++ compatibility (spec: shared/GIZA_FORMATS.md).

eegiza's own pipeline (``eegiza align``: :mod:`eegiza.api`, :mod:`eegiza.train`, :mod:`eegiza.models`)
needs none of this; the ``GIZA++``, ``mgiza``/``mgizapp``, ``plain2snt.out``, ``snt2cooc.out``,
``snt2plain.out``, ``merge_alignment.py`` and ``mkcls`` commands (:mod:`eegiza.cli.giza`,
:mod:`eegiza.cli.giza_tools`, :mod:`eegiza.cli.mkcls`, the thin console layer) run on it.

GIZA++ -> eegiza:

==============================================  ===========================================================
GIZA++ / MGIZA++                                eegiza
==============================================  ===========================================================
``main.cpp``: argument parsing, config files,   :mod:`eegiza.giza.params` (every parameter name, default,
``.gizacfg``                                    conversion; ``write_gizacfg``)
``main.cpp``: the run, dump rules, ``-ncpus``   :mod:`eegiza.giza.run` (``run_giza``, ``GizaRun``)
``.vcb`` ``.snt`` ``.cooc`` ``.classes`` ``-d``  :mod:`eegiza.giza.inputs` (GIZA ids -> dense ids)
MGIZA ``-restart`` ``-previous*``               :mod:`eegiza.giza.restart`
``.A1.N .Ahmm.N .A3.final`` ``.t* .a* .d*``      :mod:`eegiza.giza.writers` (dense ids -> GIZA ids, parts)
``.n3 .p0_3 .D4 .hhmm``
every file's line format (readers, writers)     :mod:`eegiza.formats.giza` (numbers, ``.vcb``, t-tables),
                                                :mod:`eegiza.giza.corpus_files` (``.snt .cooc .classes
                                                .cats``), :mod:`eegiza.giza.alignment_files` (``.A3``,
                                                compact), :mod:`eegiza.giza.table_files` (a/d/n/p0/D4/hhmm
                                                tables, ``.perp``, ``.Decoder.config``); all of them in
                                                one namespace: :mod:`eegiza.giza.files`
``model1.cpp`` ``model2.cpp`` ``hmm.cpp``       :mod:`eegiza.models` (``ibm1``, ``ibm2``, ``hmm``)
``model3*.cpp`` ``collCounts.cpp`` ``D4Tables``  :mod:`eegiza.models.fertility` (driver),
                                                ``fertility_search`` (hill-climbing), ``fertility_estep``
                                                (neighbourhood counts), ``ibm3``, ``ibm4``, ``pegging``
``mkcls``                                       :mod:`eegiza.clustering`
``plain2snt.out`` ``snt2cooc.out`` ...          :mod:`eegiza.cli.giza_tools` (``.cooc``: :mod:`eegiza.giza.cooc`)
==============================================  ===========================================================

Flags that change training map onto :class:`eegiza.config.AlignerConfig` and
:class:`eegiza.models.fertility.FertilityParams` in :func:`eegiza.giza.run.giza_config` and
:func:`eegiza.giza.run.giza_fertility_params`; ``m1 m2 mh m3 m4`` become an eegiza schedule
(:func:`eegiza.giza.run.giza_schedule`). The deliberate differences from GIZA++ are listed in
:mod:`eegiza.giza.run`.
"""
