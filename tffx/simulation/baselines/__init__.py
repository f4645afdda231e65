"""Baseline learning tasks for simulation (`tffx.simulation.baselines`).

    ClientSpec            how clients iterate (epochs, batch size, ...)
    BaselineTaskDatasets  train/test/validation data and preprocessing
    BaselineTask          the datasets and the model_fn trained on them
    emnist                create_character_recognition_task (EMNIST)
    shakespeare           create_character_prediction_task (Shakespeare)

    task = emnist.create_character_recognition_task(
        ClientSpec(num_epochs=1, batch_size=20), model_id='cnn',
        only_digits=True, cache_dir='/data/tff')
    process = tffx.learning.algorithms.build_weighted_fed_avg(
        task.model_fn, client_optimizer_fn=...)
    clients = task.datasets.sample_train_clients(10, random_seed=round_num)

Its own area above `tffx.simulation` (the tasks use `tffx.learning`
models); `tffx/__init__.py` imports it, which makes it the attribute
`tffx.simulation.baselines`, as in TFF.
"""

from tffx.simulation.baselines import emnist as emnist
from tffx.simulation.baselines import shakespeare as shakespeare
from tffx.simulation.baselines.baseline_task import BaselineTask as BaselineTask
from tffx.simulation.baselines.client_spec import ClientSpec as ClientSpec
from tffx.simulation.baselines.task_data import BaselineTaskDatasets as BaselineTaskDatasets
