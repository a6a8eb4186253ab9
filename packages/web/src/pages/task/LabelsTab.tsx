import { tasks, type Task } from '@cairn/protocol';
import { call } from '../../api/client';
import { LabelsEditor } from '../../components/LabelsEditor';

/**
 * The task's label enumeration (`execution.model_labels`): what `connectLabelEnumeration` hands a remote run and
 * what its output models take. Editable while the task is a draft.
 */
export function TaskLabelsTab({ task, reload }: { task: Task; reload: () => void }) {
  return (
    <LabelsEditor
      labels={task.execution?.model_labels}
      editable={task.status === 'created'}
      readOnlyNote='Only tasks in the "created" state can be edited.'
      onSave={async (labels) => {
        await call(tasks.edit, { task: task.id, execution: { model_labels: labels } });
        reload();
      }}
    />
  );
}
