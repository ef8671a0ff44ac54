"""Private Gaussian-process machinery of the pre-trained tuner: the GP model (``gp``) and
the acquisition search it steers (``acquisition``), shared by the sampler
(``hpo.samplers.pretrained``) and the pre-training MDP (``envs.acquisition_env``)."""
